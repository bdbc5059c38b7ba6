"""Warm sandboxes: a few started ahead of time per worker process, each used for ONE run, then discarded.

Starting a sandbox (namespaces, then the interpreter) costs more than a small script
runs, so each worker process keeps ``FLOWBUILDER_SCRIPT_WARM_POOL`` sandboxes whose
launchers are already waiting for a request. A run takes one (or starts one itself
when none is ready: the pool never makes a run wait), and when the run is over
(:meth:`WarmPool.replenish`) a single background thread starts the replacement, so
that its start overlaps the engine's work between steps rather than the script
itself. A sandbox is never reused: no state can pass from one run to the next.

The thread that starts a bubblewrap sandbox is its "parent" for ``--die-with-parent``
(the kernel's parent-death signal follows the thread), so one long-lived thread per
process starts them all. A forked child (Celery's prefork pool) builds its own pool.
"""

from __future__ import annotations

import logging
import os
import threading
import time

from executions.engine.sandbox.isolation import Isolation
from executions.engine.sandbox.process import Sandbox

logger = logging.getLogger(__name__)

RETRY_AFTER_FAILURE_SECONDS = 5.0


class WarmPool:
    """Up to ``size`` started sandboxes for one :class:`Isolation`; refilled by one daemon thread."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._ready: list[Sandbox] = []
        self._isolation: Isolation | None = None
        self._size = 0
        self._thread: threading.Thread | None = None

    def take(self, isolation: Isolation, size: int) -> Sandbox | None:
        """A started sandbox for ``isolation``, or None if none is ready (the caller starts its own)."""
        stale: list[Sandbox] = []
        taken = None
        with self._changed:
            if isolation != self._isolation or size != self._size:
                stale, self._ready = self._ready, []
                self._isolation, self._size = isolation, size
            while self._ready and taken is None:
                candidate = self._ready.pop(0)
                if candidate.alive:
                    taken = candidate
                else:
                    stale.append(candidate)
            if size > 0 and (self._thread is None or not self._thread.is_alive()):
                self._thread = threading.Thread(target=self._refill, name="script-sandbox-pool", daemon=True)
                self._thread.start()
            if taken is None:
                self._changed.notify_all()  # nothing was ready: start filling now
        for sandbox in stale:
            sandbox.finish()
        return taken

    def replenish(self) -> None:
        """Start the replacements of what was taken (called when a run is over)."""
        with self._changed:
            self._changed.notify_all()

    def clear(self) -> None:
        """Discard every warm sandbox (tests; a changed environment). The pool fills again on the next take."""
        with self._changed:
            stale, self._ready = self._ready, []
            self._isolation, self._size = None, 0
        for sandbox in stale:
            sandbox.finish()

    @property
    def ready(self) -> int:
        with self._changed:
            return len(self._ready)

    def _refill(self) -> None:
        while True:
            with self._changed:
                while self._isolation is None or len(self._ready) >= self._size:
                    self._changed.wait()
                isolation = self._isolation
            try:
                sandbox = Sandbox.start(isolation)
            except Exception:  # the run that needs one starts it itself and reports the error
                logger.exception("Could not start a warm script sandbox")
                time.sleep(RETRY_AFTER_FAILURE_SECONDS)
                continue
            with self._changed:
                keep = isolation == self._isolation and len(self._ready) < self._size
                if keep:
                    self._ready.append(sandbox)
            if not keep:
                sandbox.finish()


_pool: WarmPool | None = None
_pool_pid = 0
_pool_lock = threading.Lock()


def get() -> WarmPool:
    """This process's pool (a new one after a fork: the parent's sandboxes are not ours)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            _pool, _pool_pid = WarmPool(), os.getpid()
        return _pool
