"""Deciding that a run is over, its output, and ending it (finished, failed, cancelled, timed out)."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.db import transaction

from executions.engine import context as node_context
from executions.engine.dispatch import dispatcher
from executions.engine.runner.state import Run, load_run, reachable_nodes, save_run
from executions.models import Execution, StepRun
from executions.signals import execution_finished as execution_finished_signal
from flowbuilder import clock


def maybe_finish(run: Run) -> None:
    if run.execution.is_finished:
        return
    reachable = reachable_nodes(run.graph)
    if all(run.steps[node_id].status in StepRun.FINISHED for node_id in reachable):
        finish(run, Execution.Status.COMPLETED)
        return
    steps = [run.steps[node_id] for node_id in reachable]
    active = any(
        s.status in (StepRun.Status.RUNNING, StepRun.Status.RETRYING)
        or (s.status == StepRun.Status.PENDING and s.queued_at)
        for s in steps
    )
    waiting = any(s.status == StepRun.Status.WAITING for s in steps)
    run.execution.status = Execution.Status.WAITING if waiting and not active else Execution.Status.RUNNING


def _final_output(run: Run) -> Any:
    graph = run.graph
    outputs = [
        n
        for n in graph.nodes.values()
        if node_context.node_type_of(n).sets_output and run.steps[n.id].status == StepRun.Status.COMPLETED
    ]
    leaves = [
        n.id
        for n in graph.nodes.values()
        if not graph.outgoing[n.id]
        and run.steps[n.id].status == StepRun.Status.COMPLETED
        and n.id in reachable_nodes(graph)
    ]
    wanted = [n.id for n in outputs] or leaves
    values = {node_id: run.step_view(node_id)["output"] for node_id in wanted}
    if outputs and len(outputs) == 1:
        return values[outputs[0].id]
    return values


def finish(run: Run, status: str, error: dict[str, Any] | None = None) -> None:
    """End the run: cancel what has not finished, set the output, tell whoever waits."""
    execution = run.execution
    now = clock.now()
    for step in run.steps.values():
        if step.status not in StepRun.FINISHED:
            step.status = StepRun.Status.CANCELLED
            step.completed_at = now
            step.lease_expires_at = step.next_attempt_at = step.wake_at = None
            run.touch(step)
    execution.status = status
    execution.completed_at = now
    execution.error = error
    if status == Execution.Status.COMPLETED:
        execution.output_data = _final_output(run)
        problem = node_context.output_size_error(execution.output_data)
        if problem:
            execution.status = Execution.Status.FAILED
            execution.output_data = None
            execution.error = {"message": problem}
    duration = (now - execution.started_at).total_seconds() if execution.started_at else 0
    run.log(
        "info" if execution.status == Execution.Status.COMPLETED else "error",
        f"Run {execution.status} after {duration:.3f}s",
    )
    if status != Execution.Status.COMPLETED:  # a run that succeeded has no children left running
        children = Execution.objects.filter(parent=execution, status__in=Execution.ACTIVE).values_list("pk", flat=True)
        for child_id in children:
            run.later(partial(cancel_execution, child_id, reason="The parent run ended"))
    execution_id = execution.pk
    if execution.parent_step_id:
        run.later(lambda: dispatcher().child_finished(execution_id))
    # Runs may be held behind this one: by max_concurrency, or by a schedule's overlap: queue.
    queued_schedule = (
        execution.trigger == Execution.Trigger.SCHEDULE and run.graph.trigger.config.get("overlap") == "queue"
    )
    if run.graph.settings.get("max_concurrency") or queued_schedule:
        run.later(lambda: dispatcher().execution_finished(execution_id))
    # Listeners write what follows a run's end (outgoing events, file status) with the end itself.
    run.in_transaction(lambda: execution_finished_signal.send(sender=Execution, execution=execution))


def cancel_execution(execution_id: Any, *, reason: str = "Cancelled", status: str = Execution.Status.CANCELLED) -> bool:
    """Stop a run at any point: unfinished steps are cancelled, running ones' results discarded.

    Answers False when the run had already ended.
    """
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.is_finished:
            return False
        run.log("warning", reason)
        finish(run, status, {"message": reason})
        save_run(run)
        return True
