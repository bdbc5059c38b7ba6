"""Counting API calls cheaply: a cache counter per user and day, flushed to the database.

Each authenticated request under ``/api/`` costs one cache ``INCR`` (Redis
in production, shared by every process; local memory in the embedded mode,
where the worker and beat share the web process). No database work happens
on the request path. Beat's ``analytics.flush_api_usage`` (every
``FLOWBUILDER_API_USAGE_FLUSH_SECONDS``) moves the counts into
:class:`ApiUsageDaily` rows: it adds what it read and subtracts the same
amount from the counter (``DECR``), so calls made meanwhile are kept, and
readers add the not-yet-flushed remainder. A crash between the two steps can
count one flush twice; the counters live three days, so a flush missed for
longer than that loses them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

from django.core.cache import cache
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from accounts.models import User
from analytics.models import ApiUsageDaily

COUNTER_TTL = 3 * 24 * 3600
FLUSH_DAYS = 2  # today and yesterday: older counters were flushed before they could still grow
CHUNK = 1000


def _key(day: date, user_id: Any) -> str:
    return f"analytics:api_calls:{day.isoformat()}:{user_id}"


def today() -> date:
    return timezone.now().date()


def count_api_call(user_id: Any, *, day: date | None = None) -> None:
    """Count one API call (one cache round trip, two the first time of the day)."""
    key = _key(day or today(), user_id)
    try:
        cache.incr(key)
    except ValueError:  # no counter yet today
        if not cache.add(key, 1, timeout=COUNTER_TTL):
            cache.incr(key)


def pending_calls(user_ids: Iterable[Any], days: Iterable[date]) -> dict[tuple[Any, date], int]:
    """Counts not yet flushed, by (user id, day), for the given users and days (one ``MGET``)."""
    keys = {_key(day, user_id): (user_id, day) for user_id in user_ids for day in days}
    values = cache.get_many(list(keys)) if keys else {}
    return {keys[key]: int(value) for key, value in values.items() if value}


def _add(user_id: Any, day: date, amount: int) -> None:
    updated = ApiUsageDaily.objects.filter(user_id=user_id, day=day).update(count=F("count") + amount)
    if updated:
        return
    try:
        with transaction.atomic():
            ApiUsageDaily.objects.create(user_id=user_id, day=day, count=amount)
    except IntegrityError:  # another flush created it meanwhile
        ApiUsageDaily.objects.filter(user_id=user_id, day=day).update(count=F("count") + amount)


def flush_api_usage(*, days: Iterable[date] | None = None) -> int:
    """Move the cached counts of every user into the database; answers the calls moved."""
    days = list(days) if days is not None else [today() - timedelta(days=n) for n in range(FLUSH_DAYS)]
    moved = 0
    ids = User.objects.order_by("pk").values_list("pk", flat=True)
    chunk: list[Any] = []
    for user_id in ids.iterator(chunk_size=CHUNK):
        chunk.append(user_id)
        if len(chunk) >= CHUNK:
            moved += _flush_chunk(chunk, days)
            chunk = []
    if chunk:
        moved += _flush_chunk(chunk, days)
    return moved


def _flush_chunk(user_ids: list[Any], days: list[date]) -> int:
    moved = 0
    for (user_id, day), amount in pending_calls(user_ids, days).items():
        _add(user_id, day, amount)
        cache.decr(_key(day, user_id), amount)
        moved += amount
    return moved
