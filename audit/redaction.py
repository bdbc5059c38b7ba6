"""Keeping secrets out of the audit log.

A value is replaced by ``[redacted]`` when its key names a secret (any word of
the key, split on ``_``/``-``/camelCase, is one of :data:`SECRET_WORDS`: so
``password``, ``api_key``, ``key_hash``, ``clientSecret``, ``Authorization``,
but not ``author`` or ``monkey``), when the audited model declares the field
secret (a credential's ``data``), or when the value itself looks like a
credential (an ``fbk_`` API key, a JWT, a ``Bearer`` header). Large values
are replaced by their size and a digest of their redacted form, so the log
stays small and a diff still shows that something changed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder

REDACTED = "[redacted]"
SECRET_WORDS = frozenset(
    {
        "password",
        "passwd",
        "pwd",
        "passphrase",
        "secret",
        "secrets",
        "token",
        "tokens",
        "key",
        "keys",
        "apikey",
        "authorization",
        "auth",
        "cookie",
        "session",
        "signature",
        "hash",
        "private",
        "credential",
        "credentials",
        "encrypted",
        "ciphertext",
        "otp",
    }
)
MAX_VALUE_BYTES = 4096
MAX_DEPTH = 32

_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")
_SECRET_VALUE = re.compile(
    r"^(?:fbk_\S+|eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]*|(?:bearer|basic|token)\s+\S{8,})$", re.IGNORECASE
)


def is_secret_key(key: Any) -> bool:
    if not isinstance(key, str):
        return False
    words = {word.lower() for word in _WORD.findall(key)}
    return bool(words & SECRET_WORDS) or key.lower().replace("-", "").replace("_", "") in SECRET_WORDS


def looks_like_secret(value: Any) -> bool:
    return isinstance(value, str) and bool(_SECRET_VALUE.match(value.strip()))


def to_json(value: Any) -> Any:
    """A JSON-compatible copy (datetimes, UUIDs and decimals as strings)."""
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder, default=str))


def redact(value: Any, *, _depth: int = 0) -> Any:
    """``value`` with every secret-named key's value and every credential-looking string redacted."""
    if _depth > MAX_DEPTH:
        return REDACTED
    if isinstance(value, dict):
        return {
            key: REDACTED if is_secret_key(key) and item not in (None, "") else redact(item, _depth=_depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [redact(item, _depth=_depth + 1) for item in value]
    if looks_like_secret(value):
        return REDACTED
    return value


def bounded(value: Any, *, limit: int = MAX_VALUE_BYTES) -> Any:
    """``value``, or ``{"truncated": true, "bytes", "sha256"}`` when its JSON is over ``limit`` bytes."""
    encoded = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str).encode()
    if len(encoded) <= limit:
        return value
    return {"truncated": True, "bytes": len(encoded), "sha256": hashlib.sha256(encoded).hexdigest()}


def clean_value(name: str, value: Any, *, secret_fields: Iterable[str] = ()) -> Any:
    """One field's value as the audit log stores it: JSON, redacted, bounded."""
    if value in (None, ""):
        return value
    if name in secret_fields or is_secret_key(name):
        return REDACTED
    return bounded(redact(to_json(value)))


def clean_changes(changes: dict[str, Any] | None) -> dict[str, Any]:
    """Free-form event details (from ``audit_record`` callers): redacted and each value bounded."""
    if not changes:
        return {}
    redacted = redact(to_json(changes))
    return {key: bounded(item) for key, item in redacted.items()}
