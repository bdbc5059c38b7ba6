"""Reads: a user's own webhooks and delivery attempts (anyone else's are a 404)."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from flowbuilder.api.errors import NotFound
from flowbuilder.ids import parse_uuid
from webhooks.models import WebhookDelivery, WebhookSigningSecret, WebhookSubscription


def webhook_list(user: User) -> QuerySet[WebhookSubscription]:
    return WebhookSubscription.objects.filter(owner=user).defer("encrypted_secret").order_by("-created_at")


def webhook_get(*, user: User, webhook_id: Any) -> WebhookSubscription:
    """The user's subscription; NotFound for anyone else's and for malformed ids."""
    key = parse_uuid(webhook_id)
    subscription = webhook_list(user).filter(pk=key).first() if key else None
    if subscription is None:
        raise NotFound("Webhook not found")
    return subscription


def deliveries_of(subscription: WebhookSubscription) -> QuerySet[WebhookDelivery]:
    """Every attempt for the subscription, newest first."""
    return WebhookDelivery.objects.filter(subscription=subscription).order_by("-created_at", "-attempt")


def run_deliveries(user: User) -> QuerySet[WebhookDelivery]:
    """The attempts to the ``webhook_url`` of the user's runs, newest first."""
    return WebhookDelivery.objects.filter(owner=user, subscription__isnull=True).order_by("-created_at", "-attempt")


def signing_secret_get(user: User) -> WebhookSigningSecret:
    row = WebhookSigningSecret.objects.filter(owner=user).first()
    if row is None:
        raise NotFound("You have no signing secret for run webhooks yet; POST to make one")
    return row
