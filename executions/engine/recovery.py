"""The recovery sweep: nothing accepted is ever lost, nothing waits on a broker's timeout.

Run every ``FLOWBUILDER_SWEEP_INTERVAL_SECONDS`` by beat (and by
``manage.py recover_executions``). Each claim below is a conditional UPDATE,
so two sweeps racing do each thing once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from executions.engine import runner
from executions.engine.definition import trigger_node
from executions.engine.dispatch import dispatcher
from executions.models import Execution, StepRun
from flowbuilder import clock
from flowbuilder.locks import give_up_on_locks
from workflows.models import Workflow

logger = logging.getLogger(__name__)


@dataclass
class SweepReport:
    starts_requeued: int = 0
    held_started: int = 0
    steps_requeued: int = 0
    lost_steps_rerun: int = 0
    retries_dispatched: int = 0
    woken: int = 0
    timed_out: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _claim_redispatch(queryset: Any, field: str, now: datetime, before: datetime) -> bool:
    """Move ``field`` to now if it is still older than ``before``: only one sweeper wins."""
    return bool(queryset.filter(**{f"{field}__lt": before}).update(**{field: now}))


def send_at_next_sweep(queryset: Any, field: str) -> None:
    """Queued work whose message the broker refused: make it look overdue, so the first sweep after the
    broker is back sends it, not the first one ``FLOWBUILDER_REQUEUE_AFTER_SECONDS`` later."""
    overdue = clock.now() - timedelta(seconds=settings.FLOWBUILDER_REQUEUE_AFTER_SECONDS + 1)
    try:
        queryset.filter(**{f"{field}__isnull": False}).update(**{field: overdue})
    except Exception:  # the database is away too: the sweep still sends it, only later
        logger.warning("Could not mark unsent work for the next sweep", exc_info=True)


def _each(report: SweepReport, counter: str, ids: Iterable[Any], handle: Callable[[Any], int | bool]) -> None:
    """Handle each item in its own savepoint: one that raises is logged and skipped, the rest go on.

    A poisoned run (a definition the runner chokes on, a row a migration left odd) must not stop
    every other timeout, wake-up and re-queue on the system, as healthchecks' ``sendalerts`` keeps
    going past a check it cannot handle. Nor must a row another transaction holds (a run whose
    start spins): each item gives up waiting for a lock after a moment.
    """
    for item in ids:
        try:
            with transaction.atomic():
                give_up_on_locks()
                done = handle(item)
        except Exception:
            logger.exception("Recovery sweep: %s failed for %s; going on with the others", counter, item)
            continue
        setattr(report, counter, getattr(report, counter) + int(done))


def sweep(now: datetime | None = None) -> SweepReport:
    now = now or clock.now()
    report = SweepReport()
    stale = now - timedelta(seconds=settings.FLOWBUILDER_REQUEUE_AFTER_SECONDS)
    active = [Execution.Status.RUNNING, Execution.Status.WAITING]

    def requeue_start(execution_id: Any) -> bool:
        queued = Execution.objects.filter(pk=execution_id, status=Execution.Status.QUEUED)
        if not _claim_redispatch(queued, "dispatched_at", now, stale):
            return False
        dispatcher().start_execution(execution_id)
        return True

    def requeue_step(step_id: int) -> bool:
        pending = StepRun.objects.filter(pk=step_id, status=StepRun.Status.PENDING)
        if not _claim_redispatch(pending, "queued_at", now, stale):
            return False
        dispatcher().run_step(step_id)
        return True

    def dispatch_retry(step_id: int) -> bool:
        dispatcher().run_step(step_id)
        return True

    def time_out(execution_id: Any) -> bool:
        return runner.cancel_execution(
            execution_id, reason="The run exceeded its timeout", status=Execution.Status.TIMED_OUT
        )

    # Runs queued (rows committed) whose start message never ran.
    unsent = Execution.objects.filter(status=Execution.Status.QUEUED, dispatched_at__lt=stale)
    _each(report, "starts_requeued", unsent.values_list("pk", flat=True)[:1000], requeue_start)

    # Runs held by a concurrency limit, where a slot is free.
    held = Execution.objects.filter(status=Execution.Status.QUEUED, dispatched_at__isnull=True)
    _each(report, "held_started", held.values_list("workflow_id", flat=True).distinct()[:1000], start_held_runs)

    # Steps queued but never claimed (the message was lost, or the worker died before taking it).
    pending = StepRun.objects.filter(status=StepRun.Status.PENDING, queued_at__lt=stale, execution__status__in=active)
    _each(report, "steps_requeued", pending.values_list("pk", flat=True)[:5000], requeue_step)

    # Steps whose worker stopped renewing the lease.
    lost = StepRun.objects.filter(status=StepRun.Status.RUNNING, lease_expires_at__lt=now)
    _each(report, "lost_steps_rerun", lost.values_list("pk", flat=True)[:5000], runner.recover_lost_step)

    # Retries that are due and were not (or could not be) sent with a countdown.
    due = StepRun.objects.filter(
        status=StepRun.Status.RETRYING, next_attempt_at__lt=now - timedelta(seconds=5), execution__status__in=active
    )
    _each(report, "retries_dispatched", due.values_list("pk", flat=True)[:5000], dispatch_retry)

    # Delays that are over, approvals that expired.
    waiting = StepRun.objects.filter(status=StepRun.Status.WAITING, wake_at__lte=now, execution__status__in=active)
    _each(report, "woken", waiting.values_list("pk", flat=True)[:5000], runner.wake_due_step)

    # Runs past their deadline.
    overdue = Execution.objects.filter(status__in=Execution.ACTIVE, deadline__lt=now)
    _each(report, "timed_out", overdue.values_list("pk", flat=True)[:1000], time_out)

    if any(report.as_dict().values()):
        logger.info("Recovery sweep: %s", report.as_dict())
    return report


def start_held_runs(workflow_id: Any) -> int:
    """Start the oldest held runs that may go now; answers how many.

    A run is held by the workflow's ``max_concurrency`` (it starts when a
    slot is free) or, for a scheduled run with ``overlap: queue``, by the
    previous scheduled run (it starts when no other scheduled run is going).
    """
    with transaction.atomic():
        workflow = Workflow.objects.select_for_update().filter(pk=workflow_id).first()
        if workflow is None:
            return 0
        runs = Execution.objects.filter(workflow=workflow, parent__isnull=True)
        going = Q(status__in=[Execution.Status.RUNNING, Execution.Status.WAITING]) | Q(
            status=Execution.Status.QUEUED, dispatched_at__isnull=False
        )
        running = runs.filter(going).count()
        schedule_busy = runs.filter(going, trigger=Execution.Trigger.SCHEDULE).exists()
        held = list(
            runs.filter(status=Execution.Status.QUEUED, dispatched_at__isnull=True)
            .select_related("workflow_version")
            .order_by("created_at")
        )
        if not held:
            return 0
        limit = (held[0].workflow_version.definition.get("settings") or {}).get("max_concurrency")
        now = clock.now()
        started = 0
        for execution in held:
            if limit and running >= limit:
                break
            if _waits_for_previous_schedule(execution):
                if schedule_busy:
                    continue
                schedule_busy = True
            Execution.objects.filter(pk=execution.pk).update(dispatched_at=now)
            transaction.on_commit(partial(runner.send_start, execution.pk))
            running += 1
            started += 1
        return started


def _waits_for_previous_schedule(execution: Execution) -> bool:
    """A scheduled run of a trigger with ``overlap: queue``: one at a time, in tick order."""
    if execution.trigger != Execution.Trigger.SCHEDULE:
        return False
    trigger = trigger_node(execution.workflow_version.definition)
    return trigger is not None and (trigger.get("config") or {}).get("overlap") == "queue"
