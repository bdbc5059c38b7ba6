"""What saving workflows and calling their webhooks can refuse, each with the reason a client branches on."""

from __future__ import annotations

from flowbuilder.api.errors import Conflict, Forbidden, RateLimited, Unauthorized, ValidationFailed


class InvalidDefinition(ValidationFailed):
    reason = "INVALID_DEFINITION"


class CredentialedNodeOwnerOnly(Forbidden):
    """An editor (not the owner) added or changed a node that uses a credential."""

    reason = "CREDENTIALED_NODE_OWNER_ONLY"


class StaleVersion(Conflict):
    """The client edited an older version than the current one."""

    reason = "WORKFLOW_VERSION_STALE"


class NotAWebhook(Conflict):
    reason = "TRIGGER_NOT_WEBHOOK"


class WebhookRateLimited(RateLimited):
    reason = "WEBHOOK_RATE_LIMITED"


class SignatureRejected(Unauthorized):
    """Missing, malformed, stale or wrong ``X-Flowbuilder-Signature`` (or its secret is unavailable)."""

    reason = "WEBHOOK_SIGNATURE_INVALID"


class DeliveryReplayed(Conflict):
    reason = "WEBHOOK_DELIVERY_REPLAYED"
