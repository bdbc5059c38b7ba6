"""Dispatched steps (one ``run_step`` task each): claim, execute, record; steps of dead workers."""

from __future__ import annotations

import logging
from datetime import timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F

from executions import broadcast
from executions.engine import context as node_context
from executions.engine.definition import Node
from executions.engine.dispatch import dispatcher
from executions.engine.runner import deaths
from executions.engine.runner.advance import advance_and_save
from executions.engine.runner.attempt import attempt
from executions.engine.runner.results import apply_outcome, fail_step
from executions.engine.runner.state import WORKER_NAME, Outcome, graph_for_version, locked_step, skip_fsync
from executions.engine.types import NodeContext, NodeType
from executions.models import Execution, StepRun
from flowbuilder import clock

logger = logging.getLogger(__name__)


def claim_step(step_id: int) -> tuple[StepRun, int] | None:
    """Take a queued step for this worker; None if it is not runnable (a duplicate delivery, cancelled, done).

    One conditional UPDATE decides who wins, so two deliveries never both run it.
    """
    now = clock.now()
    lease = now + timedelta(seconds=settings.FLOWBUILDER_STEP_LEASE_SECONDS)
    with transaction.atomic():
        # A claim lost in a database crash only sends the step back to the
        # sweep, which runs it again: no need to wait for this commit's fsync.
        skip_fsync()
        # A finished run has no pending steps (finishing cancels them), so the
        # step's own status is enough: no join with the execution.
        claimed = (
            StepRun.objects.filter(
                pk=step_id,
                status__in=[StepRun.Status.PENDING, StepRun.Status.RETRYING],
                queued_at__isnull=False,
            )
            .exclude(next_attempt_at__gt=now + timedelta(seconds=1))
            .update(
                status=StepRun.Status.RUNNING,
                attempt=F("attempt") + 1,
                started_at=now,
                lease_expires_at=lease,
                worker=WORKER_NAME,
                next_attempt_at=None,
            )
        )
    if not claimed:
        return None
    step = (
        StepRun.objects.select_related("execution").defer("output", "state", "execution__output_data").get(pk=step_id)
    )
    _announce_running(step)
    return step, step.attempt


def _announce_running(step: StepRun) -> None:
    """Tell live clients a dispatched step started, with the next sequence number of its run."""
    table = connection.ops.quote_name(Execution._meta.db_table)
    with transaction.atomic():
        skip_fsync()  # losing this in a crash loses a live event, nothing else
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET event_seq = event_seq + 1 WHERE id = %s RETURNING event_seq",  # noqa: S608
                [Execution._meta.pk.get_db_prep_value(step.execution_id, connection)],
            )
            (seq,) = cursor.fetchone()
    snapshot = {**broadcast.execution_snapshot(step.execution), "current_step": step.node_id}
    event = {"type": "step_update", "data": {"node_id": step.node_id, "status": step.status, "attempt": step.attempt}}
    broadcast.publish(snapshot, [event], first_seq=seq)


def execute_step(step_id: int) -> None:
    """Run one dispatched step end to end: claim, render, execute, record."""
    from executions.engine.leases import holding_lease

    claimed = claim_step(step_id)
    if claimed is None:
        return
    step, attempt_number = claimed
    execution = step.execution
    graph = graph_for_version(execution.workflow_version_id)
    node = graph.nodes[step.node_id]

    def build(node_type: NodeType) -> NodeContext:
        views = node_context.load_outputs(execution.pk, node_context.needed_steps(graph, node, node_type))
        ctx_data = node_context.expression_context(execution, graph, views)
        config = node_context.render_config(node, node_type, ctx_data)
        ctx = _node_context_for_worker(execution, step, node, node_type, config, ctx_data)
        ctx.inputs = node_context.taken_inputs(graph, node, views)
        return ctx

    outcome = attempt(
        node,
        build,
        retries=True,
        around=partial(holding_lease, step.pk, attempt_number),
        label=f"Step {step.pk} ({node.id})",
        deadline=execution.deadline,
    )
    complete_step(step_id, attempt_number, outcome, execution_id=execution.pk)


def _node_context_for_worker(
    execution: Execution, step: StepRun, node: Node, node_type: Any, config: dict[str, Any], ctx_data: dict[str, Any]
) -> NodeContext:
    return NodeContext(
        execution_id=str(execution.pk),
        workflow_id=str(execution.workflow_id),
        owner_id=execution.owner_id,
        node_id=node.id,
        node_type=node_type,
        config=config,
        expression_context=ctx_data,
        attempt=step.attempt,
        dry_run=execution.mode == Execution.Mode.DRY_RUN,
        timeout=node.timeout_seconds,
    )


def complete_step(step_id: int, attempt: int, outcome: Outcome, *, execution_id: Any = None) -> bool:
    """Record a dispatched step's result, once: a late or duplicate result is discarded.

    Answers whether the result was recorded.
    """
    with transaction.atomic():
        locked = locked_step(step_id, execution_id=execution_id)
        if locked is None or locked[1].status != StepRun.Status.RUNNING or locked[1].attempt != attempt:
            logger.info("Discarding a late result of step %s attempt %s", step_id, attempt)
            return False
        run, step = locked
        apply_outcome(run, step, outcome)
        advance_and_save(run)
        return True


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
            run.later(lambda: dispatcher().run_step(step_id))
            requeued = True
        advance_and_save(run)
        return requeued
