"""Starting a run: its trigger and the inline nodes that follow."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from executions.engine.runner import deaths
from executions.engine.runner.advance import Slice, advance, run_inline, take_next
from executions.engine.runner.finish import finish
from executions.engine.runner.state import Run, graph_for_version, load_run, save_run
from executions.models import Execution, StepRun
from flowbuilder import clock


def start_run(execution_id: Any, *, slice_: Slice | None = None) -> tuple[Run, StepRun] | None:
    """Run the trigger and whatever inline nodes follow; queue the first dispatched steps, or, with a
    ``slice_`` that allows it, claim the first one for this worker and answer it (run and step).

    Does nothing for an execution that is not queued (a duplicate delivery). A start whose
    worker died ``FLOWBUILDER_MAX_WORKER_DEATHS`` times fails the run instead. The claimed step
    runs after this returns: its worker's death is the step's, not the start's.
    """
    with deaths.counted_try(Execution, execution_id, "start_deaths", status=Execution.Status.QUEUED) as died:
        if died is None:
            return None
        if died >= deaths.limit():
            _give_up(execution_id, died)
            return None
        return _start(execution_id, slice_)


def start_here(execution: Execution, steps: list[StepRun]) -> None:
    """Start a run just created in the caller's transaction (a request that waits for the run
    anyway), from the rows in hand: its trigger and inline nodes run now, its dispatched steps are
    queued when the transaction commits.

    Nothing is read again, nor locked (nobody else sees the rows yet), nor counted as a try: if the
    process dies, the transaction and the run die with it.
    """
    run = Run(
        execution=execution,
        graph=graph_for_version(execution.workflow_version_id),
        steps={step.node_id: step for step in steps},
        now=clock.now(),
    )
    _begin(run, None)


def _give_up(execution_id: Any, died: int) -> None:
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.status != Execution.Status.QUEUED:
            return
        text = deaths.message("starting this run", died)
        run.log("error", text)
        finish(run, Execution.Status.FAILED, {"message": text})
        save_run(run)


def _start(execution_id: Any, slice_: Slice | None) -> tuple[Run, StepRun] | None:
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.status != Execution.Status.QUEUED:
            return None
        return _begin(run, slice_)


def _begin(run: Run, slice_: Slice | None) -> tuple[Run, StepRun] | None:
    """The start itself, in the caller's transaction, on a run that is queued."""
    execution = run.execution
    if execution.deadline and execution.deadline <= run.now:
        finish(run, Execution.Status.TIMED_OUT, {"message": "The run timed out before it started"})
        save_run(run)
        return None
    execution.status = Execution.Status.RUNNING
    execution.started_at = run.now
    run.log("info", f"Run started ({execution.trigger}, {execution.mode})")
    trigger = run.steps[run.graph.trigger.id]
    if trigger.status == StepRun.Status.PENDING:  # a retry reuses the trigger's result
        run_inline(run, trigger)
    advance(run)
    following = take_next(run, slice_) if slice_ is not None else None
    save_run(run)
    return (run, following) if following is not None else None
