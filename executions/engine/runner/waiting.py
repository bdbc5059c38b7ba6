"""Waiting steps handed what they waited for: a wake time, a decision, a child's result."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import transaction

from executions.engine import context as node_context
from executions.engine.dispatch import dispatcher
from executions.engine.runner import deaths
from executions.engine.runner.advance import advance_and_save, context_for, run_node_context
from executions.engine.runner.attempt import attempt
from executions.engine.runner.results import apply_outcome, fail_step
from executions.engine.runner.state import locked_step
from executions.engine.types import NodeContext, NodeType
from executions.models import Execution, StepRun
from flowbuilder import clock


def resume_step(step_id: int, payload: dict[str, Any]) -> bool:
    """Hand a waiting step what it waited for (its wake time, a decision, a child's result).

    Answers False when the step is not waiting any more (already resumed, cancelled). A
    resumption whose worker died ``FLOWBUILDER_MAX_WORKER_DEATHS`` times fails the step instead.
    """
    with deaths.counted_try(StepRun, step_id, "worker_deaths", status=StepRun.Status.WAITING) as died:
        if died is None:
            return False
        if died >= deaths.limit():
            return _give_up(step_id, died)
        return _resume(step_id, payload)


def _give_up(step_id: int, died: int) -> bool:
    with transaction.atomic():
        locked = locked_step(step_id)
        if locked is None or locked[1].status != StepRun.Status.WAITING:
            return False
        run, step = locked
        fail_step(run, step, deaths.message("resuming this step", died), retryable=False)
        advance_and_save(run)
        return True


def _resume(step_id: int, payload: dict[str, Any]) -> bool:
    with transaction.atomic():
        locked = locked_step(step_id)
        if locked is None or locked[1].status != StepRun.Status.WAITING:
            return False
        run, step = locked
        step.state = StepRun.objects.values_list("state", flat=True).get(pk=step_id)
        node = run.graph.nodes[step.node_id]

        def build(node_type: NodeType) -> NodeContext:
            ctx_data = context_for(run, node)
            config = node_context.render_config(node, node_type, ctx_data)
            return run_node_context(run, step, node, config, ctx_data)

        outcome = attempt(
            node,
            build,
            retries=False,
            resume=payload,
            label=f"Resuming {node.id}",
            inline=True,
            deadline=run.execution.deadline,
        )
        if outcome.error is None and outcome.result and outcome.result.wait is None:
            step.wake_at = None
        apply_outcome(run, step, outcome)
        advance_and_save(run)
        return True


def wake_due_step(step_id: int) -> bool:
    """A waiting step whose time has come (delay over, approval expired).

    A broker countdown runs on the clocks of the machines that sent and received it; when
    they are off, the wake-up comes early and is asked for again when the step is due by the
    database's clock (at most once a second, and the sweep wakes it in any case).
    """
    wake_at = (
        StepRun.objects.filter(pk=step_id, status=StepRun.Status.WAITING, wake_at__isnull=False)
        .values_list("wake_at", flat=True)
        .first()
    )
    if wake_at is None:
        return False
    early = (wake_at - clock.now()).total_seconds()
    if early > 0:
        if early <= settings.FLOWBUILDER_MAX_COUNTDOWN_SECONDS:
            dispatcher().wake_step(step_id, countdown=max(early, 1.0))
        return False
    return resume_step(step_id, {"woken": True})


def child_finished(child_execution_id: Any) -> bool:
    """A child run ended: resume the step that waits for it."""
    child = (
        Execution.objects.filter(pk=child_execution_id)
        .values("parent_step_id", "status", "output_data", "error", "child_index")
        .first()
    )
    if child is None or child["parent_step_id"] is None:
        return False
    return resume_step(
        child["parent_step_id"],
        {
            "child": {
                "execution_id": str(child_execution_id),
                "index": child["child_index"],
                "status": child["status"],
                "output": child["output_data"],
                "error": child["error"],
            }
        },
    )
