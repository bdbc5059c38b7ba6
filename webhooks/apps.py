from __future__ import annotations

from typing import Any

from django.apps import AppConfig


def _webhook_action(kind: str, changes: dict[str, Any]) -> str | None:
    """Name the updates that matter: auto-disable and secret rotation."""
    if kind != "updated":
        return None
    if (changes.get("disabled_at") or {}).get("new"):
        return "webhook.disabled"
    if "encrypted_secret" in changes:
        return "webhook.secret_rotated"
    return None


class WebhooksConfig(AppConfig):
    name = "webhooks"
    verbose_name = "Outgoing webhooks"

    def ready(self) -> None:
        from audit.registry import audit_register
        from integrations.services import ENCRYPTED_FIELDS
        from webhooks import receivers  # noqa: F401  (connects to the executions and files signals)
        from webhooks.models import WebhookSigningSecret, WebhookSubscription

        # Delivery bookkeeping (counters, last success) is not worth an event; disabling is (webhook.disabled).
        audit_register(
            WebhookSubscription,
            name="webhook",
            exclude=("failure_count", "last_success_at", "last_failure_at", "updated_at"),
            secret_fields=("encrypted_secret",),
            action=_webhook_action,
        )
        audit_register(
            WebhookSigningSecret,
            name="webhook_signing_secret",
            exclude=("updated_at",),
            secret_fields=("encrypted_secret",),
        )
        # rotate_encryption_key re-encrypts these secrets with the credentials.
        for entry in ((WebhookSubscription, "encrypted_secret"), (WebhookSigningSecret, "encrypted_secret")):
            if entry not in ENCRYPTED_FIELDS:
                ENCRYPTED_FIELDS.append(entry)
