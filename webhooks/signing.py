"""Signatures of outgoing webhooks: ``X-Flowbuilder-Signature: t=<unix time>,v1=<hex>``.

``v1`` is the hex HMAC-SHA256, keyed with the secret's UTF-8 bytes (the whole
``whsec_…`` string), of ``"<t>.<raw body>"``. The timestamp is the time of the
attempt, so a receiver can refuse replays older than a tolerance; the body is
signed byte for byte as sent. :func:`verify` is what a Python receiver does
(the README shows it standalone). The wire format is :mod:`flowbuilder.signing`'s,
which incoming trigger calls use too.
"""

from __future__ import annotations

import secrets

from flowbuilder import signing

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
HEADER = signing.HEADER


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 43 url-safe characters (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hint_of(secret: str) -> str:
    return "••••" + secret[-4:]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return signing.digest(secret.encode(), timestamp, body)


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` sent now (or at ``timestamp``)."""
    return signing.header_value(secret.encode(), body, timestamp)


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of ``now``."""
    parsed = signing.parse(header)
    return parsed is not None and parsed.age(now) <= tolerance and parsed.matches(secret.encode(), body)
