"""Dispatched steps (one ``run_step`` task each): claim, execute, record; steps of dead workers."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.db import transaction

from executions.engine import context as node_context
from executions.engine.runner import deaths
from executions.engine.runner.advance import (
    Slice,
    advance,
    advance_and_save,
    claim,
    context_for,
    run_node_context,
    take_next,
)
from executions.engine.runner.attempt import attempt
from executions.engine.runner.results import apply_outcome, attempt_record, fail_step
from executions.engine.runner.start import start_run
from executions.engine.runner.state import Outcome, Run, locked_step, save_run
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
        claim(run, step)
        save_run(run)
    return run, step


def _claimable(run: Run, step: StepRun) -> bool:
    if step.status not in (StepRun.Status.PENDING, StepRun.Status.RETRYING) or step.queued_at is None:
        return False
    return step.next_attempt_at is None or step.next_attempt_at <= run.now + timedelta(seconds=1)


def execute_step(step_id: int) -> None:
    """Run one dispatched step end to end (claim, render, execute, record), then the run's next ones
    while the slice lasts."""
    run_chain(claim_step(step_id), Slice())


def start_execution(execution_id: Any) -> None:
    """Start a run (its trigger and the inline nodes that follow), then run its first dispatched
    step here while the slice lasts (the others go to the queue)."""
    slice_ = Slice()
    run_chain(start_run(execution_id, slice_=slice_), slice_)


def run_chain(claimed: tuple[Run, StepRun] | None, slice_: Slice) -> None:
    """Run a claimed step, record it, and go on with the next one this worker claimed with it."""
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
        following = take_next(run, slice_) if slice_ is not None else None
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
            lost = attempt_record(step, "lost")
            step.status = StepRun.Status.PENDING
            step.queued_at = run.now
            step.lease_expires_at = None
            run.log(
                "warning",
                f"The worker running attempt {step.attempt} was lost; running the step again",
                node_id=node.id,
                data=lost,
            )
            run.touch(step)
            run.dispatch(step)
            requeued = True
        advance_and_save(run)
        return requeued
