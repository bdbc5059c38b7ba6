"""Leases on running steps, renewed by a heartbeat thread in each worker process.

A step is claimed with a lease (``FLOWBUILDER_STEP_LEASE_SECONDS``); while its
node runs, this process renews it every third of that. If the process dies
(killed, lost its connection), the lease runs out and the recovery sweep runs
the step again, well before the broker's visibility timeout would.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from functools import reduce
from operator import or_

from django.conf import settings
from django.db import close_old_connections
from django.db.models import Q

from flowbuilder import clock

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_held: dict[int, int] = {}  # step id → attempt
_thread: threading.Thread | None = None
_pid: int | None = None


def renew_now() -> int:
    """Push out the lease of every step this process runs; answers how many were renewed."""
    from executions.models import StepRun

    with _lock:
        held = dict(_held)
    if not held:
        return 0
    lease = clock.now() + timedelta(seconds=settings.FLOWBUILDER_STEP_LEASE_SECONDS)
    which = reduce(or_, (Q(pk=step_id, attempt=attempt) for step_id, attempt in held.items()))
    return StepRun.objects.filter(which, status=StepRun.Status.RUNNING).update(lease_expires_at=lease)


def _heartbeat() -> None:
    while True:
        time.sleep(settings.FLOWBUILDER_STEP_LEASE_SECONDS / 3)
        try:
            renew_now()
        except Exception:  # the database may be away for a moment; the next beat tries again
            logger.exception("Could not renew step leases")
        finally:
            close_old_connections()


def _ensure_heartbeat() -> None:
    global _thread, _pid
    if _thread is not None and _thread.is_alive() and _pid == os.getpid():
        return
    _pid = os.getpid()
    _thread = threading.Thread(target=_heartbeat, name="step-lease-heartbeat", daemon=True)
    _thread.start()


@contextmanager
def holding_lease(step_id: int, attempt: int) -> Iterator[None]:
    with _lock:
        _held[step_id] = attempt
        _ensure_heartbeat()
    try:
        yield
    finally:
        with _lock:
            _held.pop(step_id, None)
