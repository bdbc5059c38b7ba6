"""How the runner asks for work to be done later, without importing Celery.

The runner calls :func:`dispatcher` and queues through it only from
``transaction.on_commit`` callbacks, after the rows the work needs exist.
``executions.tasks`` installs the Celery implementation when the app loads;
tests may install their own.
"""

from __future__ import annotations

from typing import Any, Protocol


class Dispatcher(Protocol):
    def start_execution(self, execution_id: Any) -> None: ...

    def run_step(self, step_id: int, *, countdown: float | None = None) -> None: ...

    def wake_step(self, step_id: int, *, countdown: float | None = None) -> None: ...

    def child_finished(self, child_execution_id: Any) -> None: ...

    def execution_finished(self, execution_id: Any) -> None: ...


_dispatcher: Dispatcher | None = None


def install(dispatcher: Dispatcher) -> None:
    global _dispatcher
    _dispatcher = dispatcher


def dispatcher() -> Dispatcher:
    if _dispatcher is None:
        raise RuntimeError("No dispatcher installed: executions.tasks was not loaded")
    return _dispatcher
