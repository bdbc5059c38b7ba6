"""Identifiers as they arrive from outside: a path segment, a query parameter, a JSON value."""

from __future__ import annotations

import uuid
from typing import Any


def parse_uuid(value: Any) -> uuid.UUID | None:
    """``value`` as a UUID, or None when it is not one (of any type): callers answer 404, never 500."""
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except (TypeError, ValueError, AttributeError):
        return None
