"""The ``from`` / ``to`` query parameters of reporting endpoints (analytics, audit).

Each takes a date (``2025-01-31``) or an ISO 8601 time (``2025-01-31T12:00:00Z``;
without an offset it is UTC). A date in ``to`` includes that whole day. The
range is half-open: ``from <= t < to``. Bad values are 400s pointing at the
parameter.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from flowbuilder.api.errors import ValidationFailed


@dataclass(frozen=True)
class DateRange:
    start: datetime | None
    end: datetime | None

    def as_dict(self) -> dict[str, Any]:
        return {"from": self.start, "to": self.end}


def _parse(raw: str, field: str, *, end: bool) -> datetime:
    # An unencoded "+00:00" offset arrives as " 00:00".
    value = raw.strip()
    if "T" in value:
        value = re.sub(r" (\d{2}:?\d{2})$", r"+\1", value)
    try:
        moment = parse_datetime(value) if "T" in value or ":" in value else None
        day = None if moment else parse_date(value)
    except ValueError:
        moment = day = None
    if moment is not None:
        return in_utc(moment if timezone.is_aware(moment) else moment.replace(tzinfo=UTC), raw, field)
    if isinstance(day, date):
        start = datetime.combine(day, time.min, tzinfo=UTC)
        return start + timedelta(days=1) if end else start
    raise ValidationFailed(f"'{raw}' is not a date (YYYY-MM-DD) or an ISO 8601 date-time", field=field)


def in_utc(moment: datetime, raw: str, field: str) -> datetime:
    """``moment`` in UTC: the database takes offsets only up to ±15:59, and years 1 to 9999 in UTC."""
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        raise ValidationFailed(
            f"'{raw}' is outside the times that can be stored (years 1 to 9999 in UTC)", field=field
        ) from None


def date_range(params: Mapping[str, Any], *, default_days: int | None = None, max_days: int | None = None) -> DateRange:
    """``from`` and ``to`` from query ``params``.

    With ``default_days``, a missing ``to`` is now and a missing ``from`` is
    that many days before ``to``; without it, missing bounds stay open.
    Raises ValidationFailed (field ``from`` or ``to``) for unparseable values,
    ``from`` after ``to``, or a range longer than ``max_days``.
    """
    raw_from, raw_to = params.get("from") or "", params.get("to") or ""
    end = _parse(raw_to, "to", end=True) if raw_to else None
    start = _parse(raw_from, "from", end=False) if raw_from else None
    if default_days is not None:
        end = end or timezone.now()
        start = start or end - timedelta(days=default_days)
    if start is not None and end is not None:
        if start > end:
            raise ValidationFailed("'from' must not be after 'to'", field="from")
        if max_days is not None and end - start > timedelta(days=max_days):
            raise ValidationFailed(f"The range is at most {max_days} days", field="from")
    return DateRange(start, end)
