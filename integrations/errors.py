"""What the AI gateway can refuse, each with the reason a client branches on."""

from __future__ import annotations

from flowbuilder.api.errors import ServiceUnavailable


class NoAIProvider(ServiceUnavailable):
    """No credential given and no server default (``FLOWBUILDER_AI_BASE_URL``)."""

    reason = "AI_PROVIDER_NOT_CONFIGURED"


class AIProviderUnavailable(ServiceUnavailable):
    """The provider refused the server's key, was unreachable, or asked us to slow down."""

    reason = "AI_PROVIDER_UNAVAILABLE"


class CredentialUnreadable(ServiceUnavailable):
    reason = "CREDENTIAL_UNREADABLE"
