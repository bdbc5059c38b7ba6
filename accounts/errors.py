"""What account endpoints can refuse, with the reason a client branches on."""

from __future__ import annotations

from flowbuilder.api.errors import ServiceUnavailable


class GuestsUnavailable(ServiceUnavailable):
    """Guest sessions are off, or the server-wide rate of new ones is spent."""

    reason = "GUEST_SESSIONS_UNAVAILABLE"
