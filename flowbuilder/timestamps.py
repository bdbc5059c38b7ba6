"""Timestamps as the API writes them (SPEC §2): ISO 8601 in UTC with a ``Z``."""

from __future__ import annotations

from datetime import UTC, datetime

from django.utils import timezone


def utc_iso(moment: datetime | None = None) -> str:
    """``moment`` (default now) as ``2026-01-31T09:00:00.123456Z``."""
    moment = moment if moment is not None else timezone.now()
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")
