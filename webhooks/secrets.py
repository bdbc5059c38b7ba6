"""Signing secrets at rest: made, sealed (encrypted, with a hint) and read back.

Shared by the services that hand secrets to their owners and by delivery, which signs with them.
"""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction

from integrations import crypto
from webhooks import signing
from webhooks.models import WebhookSigningSecret, WebhookSubscription


def seal(target: WebhookSubscription | WebhookSigningSecret) -> str:
    """Give ``target`` a new secret (stored encrypted, with a hint); answers the secret in clear, once."""
    secret = signing.new_secret()
    target.encrypted_secret = crypto.encrypt(secret)
    target.secret_hint = signing.hint_of(secret)
    return secret


def signing_secret_for(owner_id: Any) -> str:
    """The owner's per-run signing secret, made now if there is none (so that every request is signed).

    Raises crypto.DecryptionFailed if the stored one cannot be read.
    """
    row = WebhookSigningSecret.objects.filter(owner_id=owner_id).first()
    if row is None:
        with transaction.atomic():
            row = WebhookSigningSecret(owner_id=owner_id)
            seal(row)
            try:
                with transaction.atomic():
                    row.save(force_insert=True)
            except IntegrityError:  # made concurrently by another delivery
                row = WebhookSigningSecret.objects.get(owner_id=owner_id)
    return crypto.decrypt(row.encrypted_secret)
