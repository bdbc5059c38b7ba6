"""Engine fixtures for every test package: a real Celery worker (threads) on the Redis broker, an in-thread engine, waiting helpers.

Registered as a plugin by tests/conftest.py (pytest_plugins).
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from celery.contrib.testing.worker import start_worker
from celery.worker import state as worker_state
from django.db import connection

from executions.models import Execution
from flowbuilder.celery import app

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def _session_worker(django_db_setup, django_db_blocker):
    """A worker consuming both queues with 4 threads, for the whole session."""
    app.control.purge()
    with (
        django_db_blocker.unblock(),
        start_worker(
            app, pool="threads", concurrency=4, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=60
        ) as worker,
    ):
        yield worker
        app.control.purge()  # countdowns (retries, delays) left by tests would hold the worker's shutdown
        _close_other_connections()


def worker_busy() -> bool:
    """Whether the in-process worker is running or holding tasks, or messages wait in its queues."""
    if worker_state.active_requests or worker_state.reserved_requests:
        return True
    with app.connection_for_read() as connection:
        client = connection.default_channel.client
        return any(client.llen(queue) for queue in ("default", "steps"))


@pytest.fixture
def celery_worker(_session_worker):
    """The session's worker, left idle after the test.

    A run's follow-up tasks may still be running when the test's last
    assertion passes; the flush that ends a transactional test would
    deadlock with them, and they would leak into the next test.
    """
    yield _session_worker
    deadline, quiet_since = time.monotonic() + 10, None
    while time.monotonic() < deadline:
        if worker_busy():
            quiet_since = None
        elif quiet_since is None:
            quiet_since = time.monotonic()
        elif time.monotonic() - quiet_since > 0.2:
            return
        time.sleep(0.01)


def _close_other_connections() -> None:
    """Worker threads keep their database connections; end them so the test database can be dropped."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


def wait_for(predicate: Callable[[], object], timeout: float = 20, interval: float = 0.02) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout}s waiting for {predicate}")


def wait_finished(execution_id, timeout: float = 20) -> Execution:
    def done():
        execution = Execution.objects.get(pk=execution_id)
        return execution if execution.is_finished else None

    return wait_for(done, timeout)


def wait_status(execution_id, status: str, timeout: float = 20) -> Execution:
    return wait_for(lambda: Execution.objects.filter(pk=execution_id, status=status).first(), timeout)


class InlineDispatcher:
    """Runs queued work at once, in this thread, as the on-commit callbacks fire.

    Countdowns (retry backoff, delays) are recorded, not slept: tests move time.
    """

    def __init__(self) -> None:
        self.deferred: list[tuple[str, int, float]] = []
        self.started: list = []

    def start_execution(self, execution_id) -> None:
        from executions.engine import runner

        self.started.append(execution_id)
        runner.start_execution(execution_id)

    def run_step(self, step_id: int, *, countdown: float | None = None) -> None:
        from executions.engine import runner

        if countdown:
            self.deferred.append(("run_step", step_id, countdown))
        else:
            runner.execute_step(step_id)

    def wake_step(self, step_id: int, *, countdown: float | None = None) -> None:
        self.deferred.append(("wake_step", step_id, countdown or 0))

    def child_finished(self, child_execution_id) -> None:
        from executions.tasks import child_finished

        child_finished.run(str(child_execution_id))

    def execution_finished(self, execution_id) -> None:
        from executions.tasks import execution_finished

        execution_finished.run(str(execution_id))


class DroppingDispatcher(InlineDispatcher):
    """Loses every message, as a crash between commit and enqueue would."""

    def start_execution(self, execution_id) -> None:
        self.started.append(execution_id)

    def run_step(self, step_id: int, *, countdown: float | None = None) -> None:
        self.deferred.append(("run_step", step_id, countdown or 0))


@pytest.fixture
def inline_engine(django_capture_on_commit_callbacks):
    """The engine with an in-thread dispatcher; ``engine.run(...)`` starts a run and drives it to rest."""
    from executions.engine import dispatch
    from executions.tasks import CeleryDispatcher

    dispatcher = InlineDispatcher()
    dispatch.install(dispatcher)

    class Engine:
        def __init__(self) -> None:
            self.dispatcher = dispatcher

        def drive(self, action):
            with django_capture_on_commit_callbacks(execute=True):
                result = action()
            return result

        def run(self, workflow, input_data=None, **kwargs) -> Execution:
            from executions.services import execution_start

            execution, _ = self.drive(lambda: execution_start(workflow=workflow, input_data=input_data or {}, **kwargs))
            execution.refresh_from_db()
            return execution

        def run_deferred(self) -> None:
            """Send what was waiting on a countdown now, as if the time had come."""
            from executions.engine import runner
            from executions.models import StepRun
            from flowbuilder import clock

            while dispatcher.deferred:
                kind, step_id, _ = dispatcher.deferred.pop(0)
                if kind == "run_step":
                    StepRun.objects.filter(pk=step_id).update(next_attempt_at=None)
                    self.drive(lambda step_id=step_id: runner.execute_step(step_id))
                elif StepRun.objects.filter(pk=step_id, wake_at__lte=clock.now()).exists():
                    self.drive(lambda step_id=step_id: runner.wake_due_step(step_id))
                # else: not due yet (a wake-up asked for again when it is), like the broker's countdown

    yield Engine()
    dispatch.install(CeleryDispatcher())


@pytest.fixture
def run_node(inline_engine, user):
    """Run ``start → <node_id>`` (one node of ``node_type`` with ``config``) on the in-thread engine.

    Answers the execution and the node's step. ``node_fields`` go on the node itself
    (``retry``, ``on_error``, ``timeout_seconds``, ``name``). The one way node-type tests run a node.
    """
    from tests.workflows.helpers import linear, node
    from workflows.services import workflow_create

    def run(
        node_type: str,
        config: dict,
        *,
        input_data: dict | None = None,
        mode: str = "live",
        node_id: str = "n",
        **node_fields,
    ):
        step = {**node(node_id, node_type, **config), **node_fields}
        workflow = workflow_create(owner=user, name=node_type, definition=linear(node("start", "trigger.manual"), step))
        execution = inline_engine.run(workflow, input_data or {}, mode=mode)
        return execution, execution.steps.get(node_id=node_id)

    return run


# --- worker subprocesses -------------------------------------------------------------------


def private_queue(settings, name: str, **extra: str) -> dict[str, str]:
    """Send steps to a queue of their own (with 2 s leases) and answer a worker subprocess's environment for it."""
    queue = f"steps-{name}-{uuid.uuid4().hex[:8]}"
    settings.FLOWBUILDER_STEPS_QUEUE = queue
    settings.FLOWBUILDER_STEP_LEASE_SECONDS = 2
    db = connection.settings_dict
    return {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST']}:{db['PORT'] or 5432}/{db['NAME']}",
        "REDIS_URL": os.environ["REDIS_URL"],
        "FLOWBUILDER_STEP_LEASE_SECONDS": "2",
        "FLOWBUILDER_STEPS_QUEUE": queue,
        "FLOWBUILDER_EXTRA_NODE_MODULES": "tests.executions.nodes",
        "PYTHONPATH": str(ROOT),
        **extra,
    }


def worker_process(env: dict[str, str], log: Path, *, wrapper: Sequence[str] = ()) -> subprocess.Popen:
    """A prefork worker (concurrency 1) on the private queue of ``env``; ``wrapper`` goes before it (e.g. ``faketime``)."""
    queue = env["FLOWBUILDER_STEPS_QUEUE"]
    command = [
        *wrapper, sys.executable, "-m", "celery", "-A", "flowbuilder", "worker", "--pool", "prefork", "--concurrency", "1",
        "-Q", queue, "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "INFO",
        "-n", f"killtest-{uuid.uuid4().hex[:6]}@%h",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=ROOT, env=env, stdout=log.open("a"), stderr=subprocess.STDOUT, start_new_session=True
    )
