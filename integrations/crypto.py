"""Encryption at rest: MultiFernet over ``FLOWBUILDER_ENCRYPTION_KEYS``.

The first key encrypts; every key decrypts, so a new key can be put in front
while what the old ones wrote stays readable until ``rotate_encryption_key``
has re-encrypted it. Tokens are Fernet's (AES-128-CBC + HMAC-SHA256, with the
time of encryption), stored as ASCII text.
"""

from __future__ import annotations

import json
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class DecryptionFailed(Exception):
    """No configured key decrypts the token (the key it was written under was removed)."""


_cache: dict[tuple[str, ...], tuple[MultiFernet, Fernet]] = {}


def _keys() -> tuple[MultiFernet, Fernet]:
    configured = tuple(k.strip() for k in settings.FLOWBUILDER_ENCRYPTION_KEYS if k and k.strip())
    cached = _cache.get(configured)
    if cached is not None:
        return cached
    if not configured:
        raise ImproperlyConfigured("FLOWBUILDER_ENCRYPTION_KEYS is empty; set at least one Fernet key")
    fernets = []
    for index, key in enumerate(configured):
        try:
            fernets.append(Fernet(key))
        except (ValueError, TypeError):
            raise ImproperlyConfigured(
                f"FLOWBUILDER_ENCRYPTION_KEYS: key #{index + 1} is not a Fernet key "
                "(32 url-safe base64-encoded bytes; make one with `manage.py rotate_encryption_key --generate`)"
            ) from None
    _cache[configured] = (MultiFernet(fernets), fernets[0])
    return _cache[configured]


def check_keys() -> None:
    """Raise ImproperlyConfigured if the keys are missing or malformed."""
    _keys()


def generate_key() -> str:
    return Fernet.generate_key().decode()


def encrypt(data: Any) -> str:
    """``data`` (JSON-serialisable) encrypted under the first key."""
    multi, _ = _keys()
    return multi.encrypt(json.dumps(data, separators=(",", ":")).encode()).decode()


def decrypt(token: str) -> Any:
    """The JSON value of ``token``; raises DecryptionFailed if no configured key opens it."""
    multi, _ = _keys()
    try:
        return json.loads(multi.decrypt(token.encode()))
    except InvalidToken:
        raise DecryptionFailed(
            "The secret cannot be decrypted with the configured FLOWBUILDER_ENCRYPTION_KEYS "
            "(was the key it was stored under removed?)"
        ) from None


def is_current(token: str) -> bool:
    """Whether ``token`` is already encrypted under the first key (so rotating it is a no-op)."""
    _, primary = _keys()
    try:
        primary.decrypt(token.encode())
    except InvalidToken:
        return False
    return True


def rotate(token: str) -> str:
    """``token`` re-encrypted under the first key; raises DecryptionFailed if no key opens it."""
    multi, _ = _keys()
    try:
        return multi.rotate(token.encode()).decode()
    except InvalidToken:
        raise DecryptionFailed("The secret cannot be decrypted with any configured key") from None
