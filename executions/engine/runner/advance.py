"""Readiness and the decision loop: skip, run inline or queue every node that became decidable."""

from __future__ import annotations

import time
from datetime import timedelta
from typing import Any

from django.conf import settings

from executions.engine import context as node_context
from executions.engine.definition import Node
from executions.engine.runner.attempt import attempt
from executions.engine.runner.finish import maybe_finish
from executions.engine.runner.results import apply_outcome
from executions.engine.runner.state import WORKER_NAME, Run, default_ports, reachable_nodes, save_run
from executions.engine.types import Inbound, NodeContext, NodeType, Readiness
from executions.models import Execution, StepRun
from flowbuilder import clock

RUN, WAIT, SKIP = Readiness.RUN, Readiness.WAIT, Readiness.SKIP


def _readiness(run: Run, node: Node) -> Readiness:
    incoming = run.graph.incoming[node.id]
    if not incoming:
        return WAIT  # the trigger runs at start; nodes nothing leads to never run
    resolved = taken = 0
    for edge in incoming:
        source = run.steps[edge.source]
        if source.status in StepRun.FINISHED:
            resolved += 1
            if edge.source_port in (source.ports or ()):
                taken += 1
    join_rule = node_context.node_type_of(node).joins
    if join_rule is not None:
        return join_rule(node.config, Inbound(total=len(incoming), resolved=resolved, taken=taken))
    # Airflow's none_failed_min_one_success, what users of n8n and Windmill expect after an IF: a node
    # that several edges lead to runs once every one of them is decided and at least one was taken, so
    # the two sides of a condition can meet again without a merge. A single-input chain skips as before.
    if resolved < len(incoming):
        return WAIT
    return RUN if taken else SKIP


def advance(run: Run) -> None:
    """Skip, run inline or queue every node that became decidable, until nothing changes."""
    if run.execution.is_finished:
        return
    order = reachable_nodes(run.graph)
    changed = True
    while changed and not run.execution.is_finished:
        changed = False
        for node_id in order:
            step = run.steps[node_id]
            if step.status != StepRun.Status.PENDING or step.queued_at is not None:
                continue
            node = run.graph.nodes[node_id]
            decision = _readiness(run, node)
            if decision == WAIT:
                continue
            changed = True
            if decision == SKIP:
                skip(run, step)
            elif node.disabled:
                skip(run, step, ports=default_ports(node), reason="disabled")
            elif node_context.node_type_of(node).inline:
                run_inline(run, step)
            else:
                queue(run, step)
            if run.execution.is_finished:
                return
    maybe_finish(run)


def skip(run: Run, step: StepRun, *, ports: list[str] | None = None, reason: str = "branch not taken") -> None:
    step.status = StepRun.Status.SKIPPED
    step.ports = ports or []
    step.completed_at = run.now
    step.error = None
    run.outputs[step.node_id] = {"output": None, "status": step.status, "error": None}
    if reason == "disabled":
        step.output = None
    run.touch(step)


def queue(run: Run, step: StepRun) -> None:
    step.queued_at = run.now
    run.touch(step)
    run.dispatch(step)


def run_node_context(run: Run, step: StepRun, node: Node, config: dict[str, Any], ctx: dict[str, Any]) -> NodeContext:
    execution = run.execution
    views = run.step_views({edge.source for edge in run.graph.incoming[node.id]})
    step_id = step.pk
    return NodeContext(
        execution_id=str(execution.pk),
        workflow_id=str(execution.workflow_id),
        owner_id=execution.owner_id,
        node_id=node.id,
        node_type=node_context.node_type_of(node),
        config=config,
        expression_context=ctx,
        attempt=step.attempt,
        dry_run=execution.mode == Execution.Mode.DRY_RUN,
        timeout=node.timeout_seconds,
        state=dict(step.state) if "state" not in step.get_deferred_fields() else {},
        inputs=node_context.taken_inputs(run.graph, node, views),
        child_results=lambda: node_context.child_results(step_id),
    )


def context_for(run: Run, node: Node) -> dict[str, Any]:
    node_type = node_context.node_type_of(node)
    steps = run.step_views(node_context.needed_steps(run.graph, node, node_type))
    return node_context.expression_context(run.execution, run.graph, steps)


def run_inline(run: Run, step: StepRun) -> None:
    """Execute a pure node now, in this transaction."""
    node = run.graph.nodes[step.node_id]
    step.attempt += 1
    step.started_at = clock.now()
    step.status = StepRun.Status.RUNNING

    def build(node_type: NodeType) -> NodeContext:
        ctx_data = context_for(run, node)
        config = node_context.render_config(node, node_type, ctx_data)
        return run_node_context(run, step, node, config, ctx_data)

    outcome = attempt(
        node, build, retries=False, label=f"Inline node {node.id}", inline=True, deadline=run.execution.deadline
    )
    apply_outcome(run, step, outcome)


def claim(run: Run, step: StepRun) -> None:
    step.status = StepRun.Status.RUNNING
    step.attempt += 1
    step.started_at = clock.now()
    step.lease_expires_at = run.now + timedelta(seconds=settings.FLOWBUILDER_STEP_LEASE_SECONDS)
    step.worker = WORKER_NAME
    step.next_attempt_at = None
    step.output = None  # an attempt starts with none (and the step is then written with the one it follows)
    run.touch(step)


def take_next(run: Run, slice_: Slice) -> StepRun | None:
    """Claim the first step this transaction queued for this worker, if the slice allows: answers it."""
    if not run.queued or run.execution.is_finished or not slice_.take():
        return None
    step = run.steps_by_pk[run.queued.pop(0)]
    claim(run, step)
    return step


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


def advance_and_save(run: Run) -> None:
    advance(run)
    save_run(run)
