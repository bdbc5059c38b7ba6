"""The one signature wire format, for webhooks in both directions: ``X-Flowbuilder-Signature: t=<unix time>,v1=<hex>``.

``v1`` is the hex HMAC-SHA256 of ``"<t>.<raw body>"`` keyed with the secret's bytes. Outgoing
run events are signed with it (:mod:`webhooks.signing`); incoming trigger calls with an
``hmac_credential`` are checked with it (:mod:`workflows.triggers.webhook`). Several ``v1``
values may be sent (during a secret's rotation); any one may match.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass

HEADER = "X-Flowbuilder-Signature"


def digest(secret: bytes, timestamp: int, body: bytes) -> str:
    return hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def header_value(secret: bytes, body: bytes, timestamp: int | None = None) -> str:
    """The header for ``body`` sent now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={digest(secret, t, body)}"


@dataclass(frozen=True)
class Signature:
    timestamp: int
    candidates: tuple[str, ...]

    def matches(self, secret: bytes, body: bytes) -> bool:
        """Whether any ``v1`` signs ``body``; every candidate is compared in constant time, no early exit."""
        expected = digest(secret, self.timestamp, body).encode()
        matched = False
        for candidate in self.candidates:
            matched |= hmac.compare_digest(expected, candidate.encode())
        return matched

    def age(self, now: float | None = None) -> float:
        """Seconds between the signature's time and ``now`` (either way)."""
        return abs((time.time() if now is None else now) - self.timestamp)


def parse(header: str | None) -> Signature | None:
    """The header's timestamp and ``v1`` values, or None when it is missing or malformed (not exactly one ``t``)."""
    if not header:
        return None
    stamps: list[str] = []
    candidates: list[str] = []
    for part in header.split(","):
        key, _, value = part.strip().partition("=")
        if key == "t":
            stamps.append(value.strip())
        elif key == "v1" and value.strip():
            candidates.append(value.strip().lower())
    if len(stamps) != 1 or not stamps[0].isdigit() or not candidates:
        return None
    return Signature(int(stamps[0]), tuple(candidates))
