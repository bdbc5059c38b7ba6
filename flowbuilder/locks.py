"""Maintenance work never waits for a row someone else holds.

A sweep (recovery, reconciliations, purges) handles many rows on behalf of
every user: one transaction stuck on one row (a run's start spinning in an
expression, a long inline step) must cost the sweep that row, not the sweep.
"""

from __future__ import annotations

from django.conf import settings
from django.db import connection


def give_up_on_locks(seconds: float | None = None) -> None:
    """Make row locks taken in the current transaction fail after ``seconds`` (default
    ``FLOWBUILDER_MAINTENANCE_LOCK_TIMEOUT_SECONDS``) instead of waiting; call inside ``atomic``.

    On PostgreSQL this is ``SET LOCAL lock_timeout``: waiting longer raises OperationalError
    (``LockNotAvailable``) and the transaction ends with the statement. SQLite has no row locks.
    """
    if connection.vendor != "postgresql":
        return
    if seconds is None:
        seconds = settings.FLOWBUILDER_MAINTENANCE_LOCK_TIMEOUT_SECONDS
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config('lock_timeout', %s, true)", [f"{max(int(seconds * 1000), 1)}ms"])
