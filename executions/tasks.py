"""The Celery boundary: thin tasks that take ids and call the runner.

Every task is idempotent (the runner claims work with conditional updates),
acknowledged late and rejected if its worker dies, so a message is never
lost; duplicates are harmless. Steps have their own queue.
"""

from __future__ import annotations

import logging
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import shared_task
from django.conf import settings

from executions.engine import recovery, runner
from executions.engine.dispatch import install
from executions.models import Execution, StepRun

# A step may run as long as its node's timeout_seconds allows (a day at most): its limits are above that.
logger = logging.getLogger(__name__)

STEP_TASK = {
    "acks_late": True,
    "reject_on_worker_lost": True,
    "ignore_result": True,
    "queue": "steps",
    "time_limit": settings.FLOWBUILDER_STEP_TASK_TIME_LIMIT_SECONDS,
    "soft_time_limit": settings.FLOWBUILDER_STEP_TASK_TIME_LIMIT_SECONDS - 30,
}


@shared_task(name="executions.start_execution", **STEP_TASK)
def start_execution(execution_id: str) -> None:
    runner.start_execution(execution_id)


@shared_task(name="executions.run_step", **STEP_TASK)
def run_step(step_id: int) -> None:
    runner.execute_step(step_id)


@shared_task(name="executions.wake_step", **STEP_TASK)
def wake_step(step_id: int) -> None:
    runner.wake_due_step(step_id)


@shared_task(name="executions.child_finished", **STEP_TASK)
def child_finished(execution_id: str) -> None:
    """A child run ended: resume the parent step waiting for it."""
    runner.child_finished(execution_id)


@shared_task(name="executions.execution_finished", **STEP_TASK)
def execution_finished(execution_id: str) -> None:
    """A run that may hold others back ended (max_concurrency, overlap: queue): start the held runs that may go."""
    from executions.models import Execution

    workflow_id = Execution.objects.filter(pk=execution_id).values_list("workflow_id", flat=True).first()
    if workflow_id is not None:
        recovery.start_held_runs(workflow_id)


@shared_task(name="executions.recover", acks_late=True, ignore_result=True, queue="default")
def recover() -> dict[str, int]:
    return recovery.sweep().as_dict()


class CeleryDispatcher:
    """The runner's Dispatcher, over Celery, on the queue ``FLOWBUILDER_STEPS_QUEUE``."""

    def _send(self, task: Any, args: tuple[Any, ...], countdown: float | None = None) -> bool:
        """Publish, after the rows were committed; answers whether the broker took it. With the broker
        down the work is not lost (the rows are the outbox: the recovery sweep sends it again), so the
        caller's answer (a run's 202) stands."""
        try:
            task.apply_async(args, countdown=countdown or None, queue=settings.FLOWBUILDER_STEPS_QUEUE)
        except (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, OSError) as exc:
            logger.warning(
                "Could not queue %s%s (broker unreachable: %s); the recovery sweep will send it", task.name, args, exc
            )
            return False
        return True

    def start_execution(self, execution_id: Any) -> None:
        if not self._send(start_execution, (str(execution_id),)):
            recovery.send_at_next_sweep(Execution.objects.filter(pk=execution_id), "dispatched_at")

    def run_step(self, step_id: int, *, countdown: float | None = None) -> None:
        if not self._send(run_step, (step_id,), countdown) and not countdown:
            recovery.send_at_next_sweep(StepRun.objects.filter(pk=step_id), "queued_at")

    def wake_step(self, step_id: int, *, countdown: float | None = None) -> None:
        self._send(wake_step, (step_id,), countdown)

    def child_finished(self, child_execution_id: Any) -> None:
        self._send(child_finished, (str(child_execution_id),))

    def execution_finished(self, execution_id: Any) -> None:
        self._send(execution_finished, (str(execution_id),))


install(CeleryDispatcher())
