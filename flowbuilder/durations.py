"""Durations as operators type them: ``30d``, ``12h``, ``45m``."""

from __future__ import annotations

import re
from datetime import timedelta

_DURATION = re.compile(r"^\s*(\d+)\s*([dhm])\s*$", re.IGNORECASE)
_UNITS = {"d": "days", "h": "hours", "m": "minutes"}


def parse_duration(text: str) -> timedelta:
    """``"30d"`` → 30 days, ``"12h"``, ``"45m"``; raises ValueError for anything else (or zero)."""
    match = _DURATION.match(text or "")
    if not match:
        raise ValueError(f"'{text}' is not a duration like 30d, 12h or 45m")
    amount, unit = int(match.group(1)), match.group(2).lower()
    if amount <= 0:
        raise ValueError(f"'{text}' must be more than zero")
    return timedelta(**{_UNITS[unit]: amount})
