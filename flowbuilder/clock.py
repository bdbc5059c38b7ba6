"""One clock for every process: the database server's.

Leases, wake-ups, retry times, deadlines and schedule ticks are written by one
process and compared by another, perhaps on a machine whose clock is minutes or
hours off. A worker running behind would write leases that are already over
(the sweep re-runs its live steps); one running ahead would wake delays early
and see every lease as lost. So the engine reads the time from here, never from
``timezone.now()``: this process's clock corrected by how far it is from the
database's, measured with one query at first use and again every
``FLOWBUILDER_CLOCK_SYNC_SECONDS``.

Why an offset and not ``Now()`` in every statement: the same instants are used
in Python too (a render's time limit against the run's deadline, the cron tick
due now, a delay's wake time handed to a node), and a measured offset gives SQL
and Python one notion of now at no extra round trip per step.

Offsets under ``FLOWBUILDER_CLOCK_MIN_SKEW_SECONDS`` are the measurement's own
noise (half a round trip) and are not applied: every comparison has that much
slack already. SQLite lives in this process's own machine: no offset.
"""

from __future__ import annotations

import logging
import threading
import time
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_offset = timedelta(0)
_measured_at: float | None = None  # time.monotonic() of the last measurement (or attempt)


def now() -> datetime:
    """The database server's current time (UTC, aware), as this process best knows it."""
    if _measured_at is None or time.monotonic() - _measured_at >= settings.FLOWBUILDER_CLOCK_SYNC_SECONDS:
        _measure()
    return timezone.now() + _offset


def offset() -> timedelta:
    """How far the database's clock is ahead of this process's (negative: behind), as applied."""
    return _offset


def _measure() -> None:
    global _offset, _measured_at
    with _lock:
        if _measured_at is not None and time.monotonic() - _measured_at < settings.FLOWBUILDER_CLOCK_SYNC_SECONDS:
            return  # another thread just did
        _measured_at = time.monotonic()
        if connection.vendor != "postgresql":
            return
        try:
            before = time.time()
            with connection.cursor() as cursor:
                cursor.execute("SELECT clock_timestamp()")  # the moment of the call, not the transaction's start
                (database,) = cursor.fetchone()
            after = time.time()
        except Exception:  # the database is away for a moment: keep the last offset, try at the next sync
            logger.warning("Could not read the database's clock; keeping an offset of %s", _offset, exc_info=True)
            return
        local = datetime.fromtimestamp((before + after) / 2, tz=UTC)
        measured = database - local
        noise = abs(measured.total_seconds()) < settings.FLOWBUILDER_CLOCK_MIN_SKEW_SECONDS
        applied = timedelta(0) if noise else measured
        if abs((applied - _offset).total_seconds()) >= settings.FLOWBUILDER_CLOCK_MIN_SKEW_SECONDS:
            logger.warning(
                "This process's clock is %.3f s %s the database's; the engine uses the database's",
                abs(measured.total_seconds()),
                "behind" if measured > timedelta(0) else "ahead of",
            )
        _offset = applied


def reset() -> None:
    """Forget the measurement (tests; a process after fork measures again anyway at the next sync)."""
    global _offset, _measured_at
    with _lock:
        _offset, _measured_at = timedelta(0), None
