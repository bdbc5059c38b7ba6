"""Dispatched steps (one ``run_step`` task each): claim, execute, record; steps of dead workers."""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction

from executions.engine import context as node_context
from executions.engine.runner import deaths
from executions.engine.runner.advance import advance, advance_and_save, context_for, run_node_context
from executions.engine.runner.attempt import attempt
from executions.engine.runner.results import apply_outcome, fail_step
from executions.engine.runner.state import WORKER_NAME, Outcome, Run, locked_step, save_run
from executions.engine.types import NodeContext, NodeType
from executions.models import StepRun

logger = logging.getLogger(__name__)


def claim_step(step_id: int) -> tuple[Run, StepRun] | None:
    """Take a queued step for this worker; None if it is not runnable (a duplicate delivery, cancelled, done).

    The claim is made under the run's lock, so two deliveries never both run it, and written with the
    ``running`` announcement (the step's status, the run's event number) in one pipelined write.
    """
    with transaction.atomic():
        locked = locked_step(step_id)
        if locked is None:
            return None
        run, step = locked
        if not _claimable(run, step):
            return None
        _claim(run, step)
        save_run(run)
    return run, step


def _claimable(run: Run, step: StepRun) -> bool:
    if step.status not in (StepRun.Status.PENDING, StepRun.Status.RETRYING) or step.queued_at is None:
        return False
    return step.next_attempt_at is None or step.next_attempt_at <= run.now + timedelta(seconds=1)


def _claim(run: Run, step: StepRun) -> None:
    step.status = StepRun.Status.RUNNING
    step.attempt += 1
    step.started_at = run.now
    step.lease_expires_at = run.now + timedelta(seconds=settings.FLOWBUILDER_STEP_LEASE_SECONDS)
    step.worker = WORKER_NAME
    step.next_attempt_at = None
    step.output = None  # an attempt starts with none (and the step is then written with the one it follows)
    run.touch(step)


class Slice:
    """How long one task may go on taking the next step of its run itself (eager continuation).

    A run's next dispatched step is run by the worker that finished the one before, without a trip
    through the broker, for up to ``FLOWBUILDER_EAGER_MAX_STEPS`` steps and
    ``FLOWBUILDER_EAGER_SLICE_SECONDS``; then it goes to the queue like any other, behind the work
    of other runs, so one long run cannot hold a worker.
    """

    def __init__(self) -> None:
        self.steps = 1  # the step the task was sent
        self.ends = time.monotonic() + float(settings.FLOWBUILDER_EAGER_SLICE_SECONDS)

    def take(self) -> bool:
        if self.steps >= int(settings.FLOWBUILDER_EAGER_MAX_STEPS) or time.monotonic() >= self.ends:
            return False
        self.steps += 1
        return True


def execute_step(step_id: int) -> None:
    """Run one dispatched step end to end (claim, render, execute, record), then the run's next ones
    while the slice lasts."""
    claimed = claim_step(step_id)
    slice_ = Slice()
    while claimed is not None:
        run, step = claimed
        outcome = _attempt(run, step)
        _, claimed = _record(step.pk, step.attempt, outcome, execution_id=run.execution.pk, reuse=run, slice_=slice_)


def _attempt(run: Run, step: StepRun) -> Outcome:
    """One attempt of a claimed step, outside any transaction: ``run`` is only read."""
    from executions.engine.leases import holding_lease

    node = run.graph.nodes[step.node_id]

    def build(node_type: NodeType) -> NodeContext:
        ctx_data = context_for(run, node)
        config = node_context.render_config(node, node_type, ctx_data)
        return run_node_context(run, step, node, config, ctx_data)

    return attempt(
        node,
        build,
        retries=True,
        around=partial(holding_lease, step.pk, step.attempt),
        label=f"Step {step.pk} ({node.id})",
        deadline=run.execution.deadline,
    )


def complete_step(step_id: int, attempt: int, outcome: Outcome, *, execution_id: Any = None) -> bool:
    """Record a dispatched step's result, once: a late or duplicate result is discarded.

    Answers whether the result was recorded.
    """
    recorded, _ = _record(step_id, attempt, outcome, execution_id=execution_id)
    return recorded


def _record(
    step_id: int,
    attempt: int,
    outcome: Outcome,
    *,
    execution_id: Any = None,
    reuse: Run | None = None,
    slice_: Slice | None = None,
) -> tuple[bool, tuple[Run, StepRun] | None]:
    """Record the result and advance the run; with a ``slice_`` that allows it, claim the run's next
    dispatched step for this worker in the same transaction (and answer it)."""
    with transaction.atomic():
        locked = locked_step(step_id, execution_id=execution_id, reuse=reuse)
        if locked is None or locked[1].status != StepRun.Status.RUNNING or locked[1].attempt != attempt:
            logger.info("Discarding a late result of step %s attempt %s", step_id, attempt)
            return False, None
        run, step = locked
        apply_outcome(run, step, outcome)
        advance(run)
        following = None
        if run.queued and not run.execution.is_finished and slice_ is not None and slice_.take():
            following = run.steps_by_pk[run.queued.pop(0)]
            _claim(run, following)
        save_run(run)
    return True, (run, following) if following is not None else None


def recover_lost_step(step_id: int) -> bool:
    """A running step whose lease ran out (its worker died): queue it again, or fail it when it keeps dying.

    Answers True when the step was queued again.
    """
    with transaction.atomic():
        locked = locked_step(step_id)
        if locked is None:
            return False
        run, step = locked
        if step.status != StepRun.Status.RUNNING or not step.lease_expires_at or step.lease_expires_at > run.now:
            return False
        node = run.graph.nodes[step.node_id]
        step.worker_deaths += 1
        if step.worker_deaths >= deaths.limit():
            fail_step(run, step, deaths.message("running this step", step.worker_deaths), retryable=False)
            requeued = False
        else:
            step.status = StepRun.Status.PENDING
            step.queued_at = run.now
            step.lease_expires_at = None
            run.log(
                "warning",
                f"The worker running attempt {step.attempt} was lost; running the step again",
                node_id=node.id,
            )
            run.touch(step)
            run.dispatch(step)
            requeued = True
        advance_and_save(run)
        return requeued
