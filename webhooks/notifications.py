"""Telling a subscription's owner that repeated failures disabled it (an e-mail through Django's mail)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.core.mail import send_mail

from webhooks.models import WebhookSubscription

logger = logging.getLogger(__name__)

BODY = """\
Hello,

Flowbuilder stopped sending events to your webhook

    {url}

because {count} deliveries in a row failed. The last error was:

    {error}

Deliveries are logged at GET /api/v1/webhooks/{id}/deliveries. Once the endpoint
works again, re-enable the webhook with PATCH /api/v1/webhooks/{id} {{"is_active": true}}
(POST /api/v1/webhooks/{id}/test sends a test event first, if you like).
"""


def disabled_notify(subscription_id: Any) -> bool:
    """E-mail the owner of a disabled subscription; answers whether a message went out.

    Does nothing if the subscription is gone or was re-enabled meanwhile.
    """
    subscription = WebhookSubscription.objects.select_related("owner").filter(pk=subscription_id).first()
    if subscription is None or subscription.is_active or not subscription.owner.email:
        return False
    last_error = subscription.disabled_reason.split("; the last: ", 1)[-1] or "unknown"
    send_mail(
        subject=f"Flowbuilder: your webhook to {subscription.url[:80]} was disabled",
        message=BODY.format(
            url=subscription.url, count=subscription.failure_count, error=last_error, id=subscription.pk
        ),
        from_email=settings.DEFAULT_FROM_EMAIL,
        recipient_list=[subscription.owner.email],
    )
    logger.info("Webhook %s of %s disabled; owner told", subscription.pk, subscription.owner.email)
    return True
