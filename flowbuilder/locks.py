"""Locks: maintenance that never waits for a row someone else holds, and locks that outlive a transaction.

A sweep (recovery, reconciliations, purges) handles many rows on behalf of
every user: one transaction stuck on one row (a run's start spinning in an
expression, a long inline step) must cost the sweep that row, not the sweep.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

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


# Elsewhere than PostgreSQL (one process): a fixed set of locks, a key taking the one its hash picks.
_local_locks = [threading.RLock() for _ in range(64)]


@contextmanager
def exclusive(key: str) -> Iterator[None]:
    """Hold a lock named ``key`` across transactions, released when the block ends or the process dies.

    PostgreSQL: a session advisory lock (``pg_advisory_lock``): the server drops it with the
    connection of a process that died. Elsewhere (SQLite, one process): a lock of this process.
    Call outside ``atomic``; a connection pooler in transaction mode would break it.
    """
    if connection.vendor != "postgresql":
        with _local_locks[hash(key) % len(_local_locks)]:
            yield
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_lock(hashtextextended(%s, 0))", [key])
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_unlock(hashtextextended(%s, 0))", [key])
