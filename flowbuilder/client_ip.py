"""The client's address, decided once for throttles, lock-outs, the audit log and guest limits.

``NUM_PROXIES`` (default 0) is how many trusted reverse proxies stand in front. With none,
the address is the socket's (``REMOTE_ADDR``) and ``X-Forwarded-For`` is ignored: anyone
can send that header. Behind N proxies, each appends the address it saw, so the client is
the N-th address from the right; whatever is further left was written by the client.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings


def client_ip(request: Any) -> str | None:
    """``REMOTE_ADDR``, or behind ``NUM_PROXIES`` trusted proxies the address the outermost one saw."""
    meta = getattr(request, "META", None) or {}
    remote = meta.get("REMOTE_ADDR") or None
    proxies = getattr(settings, "NUM_PROXIES", 0) or 0
    forwarded = meta.get("HTTP_X_FORWARDED_FOR", "")
    if proxies > 0 and forwarded:
        addresses = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addresses:
            return addresses[-min(proxies, len(addresses))]
    return remote
