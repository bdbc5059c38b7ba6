"""Signatures of outgoing webhooks: ``X-Flowbuilder-Signature: t=<unix time>,v1=<hex>``.

``v1`` is the hex HMAC-SHA256, keyed with the secret's UTF-8 bytes (the whole
``whsec_…`` string), of ``"<t>.<raw body>"``. The timestamp is the time of the
attempt, so a receiver can refuse replays older than a tolerance; the body is
signed byte for byte as sent. :func:`verify` is what a Python receiver does
(the README shows it standalone).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

SECRET_PREFIX = "whsec_"  # noqa: S105  (a prefix, not a secret)
HEADER = "X-Flowbuilder-Signature"


def new_secret() -> str:
    """A fresh signing secret: ``whsec_`` and 43 url-safe characters (256 random bits)."""
    return SECRET_PREFIX + secrets.token_urlsafe(32)


def hint_of(secret: str) -> str:
    return "••••" + secret[-4:]


def signature(secret: str, timestamp: int, body: bytes) -> str:
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def signature_header(secret: str, body: bytes, timestamp: int | None = None) -> str:
    """The header value for ``body`` sent now (or at ``timestamp``)."""
    t = int(time.time()) if timestamp is None else timestamp
    return f"t={t},v1={signature(secret, t, body)}"


def verify(secret: str, body: bytes, header: str, *, tolerance: int = 300, now: float | None = None) -> bool:
    """Whether ``header`` signs ``body`` with ``secret`` within ``tolerance`` seconds of ``now``.

    Compares in constant time; any ``v1`` in the header may match (several are
    sent while a secret is being rotated, should that ever be added).
    """
    parts = [p.split("=", 1) for p in header.split(",") if "=" in p]
    stamps = [v for k, v in parts if k.strip() == "t"]
    candidates = [v.strip() for k, v in parts if k.strip() == "v1"]
    if len(stamps) != 1 or not stamps[0].strip().isdigit() or not candidates:
        return False
    t = int(stamps[0])
    if abs((time.time() if now is None else now) - t) > tolerance:
        return False
    expected = signature(secret, t, body)
    return any(hmac.compare_digest(expected, candidate) for candidate in candidates)
