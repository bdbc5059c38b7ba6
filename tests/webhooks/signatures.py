"""Checking an outgoing delivery as a receiver would, independently of ``webhooks.signing``."""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

from tests.webhooks.receivers import Hit


def verify_signature(secret: str, hit: Hit, tolerance: int = 300) -> dict[str, Any]:
    """Check a delivery as a receiver would (independently of webhooks.signing); answers the payload."""
    header = hit.headers["x-flowbuilder-signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    assert set(parts) == {"t", "v1"}, header
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + hit.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "bad signature"
    assert abs(time.time() - int(parts["t"])) < tolerance
    payload = hit.json
    assert set(payload) == {"event", "data", "timestamp", "delivery_id"}
    assert hit.headers["x-flowbuilder-event"] == payload["event"]
    assert hit.headers["x-flowbuilder-delivery"] == payload["delivery_id"]
    assert hit.headers["content-type"] == "application/json"
    return payload
