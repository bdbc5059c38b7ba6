"""Starting a run: its trigger and the inline nodes that follow."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from executions.engine.runner import deaths
from executions.engine.runner.advance import advance_and_save, run_inline
from executions.engine.runner.finish import finish
from executions.engine.runner.state import load_run, save_run
from executions.models import Execution, StepRun


def start_execution(execution_id: Any) -> None:
    """Run the trigger and whatever inline nodes follow; queue the first dispatched steps.

    Does nothing for an execution that is not queued (a duplicate delivery). A start whose
    worker died ``FLOWBUILDER_MAX_WORKER_DEATHS`` times fails the run instead.
    """
    with deaths.counted_try(Execution, execution_id, "start_deaths", status=Execution.Status.QUEUED) as died:
        if died is None:
            return
        if died >= deaths.limit():
            _give_up(execution_id, died)
        else:
            _start(execution_id)


def _give_up(execution_id: Any, died: int) -> None:
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.status != Execution.Status.QUEUED:
            return
        text = deaths.message("starting this run", died)
        run.log("error", text)
        finish(run, Execution.Status.FAILED, {"message": text})
        save_run(run)


def _start(execution_id: Any) -> None:
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.status != Execution.Status.QUEUED:
            return
        execution = run.execution
        if execution.deadline and execution.deadline <= run.now:
            finish(run, Execution.Status.TIMED_OUT, {"message": "The run timed out before it started"})
            save_run(run)
            return
        execution.status = Execution.Status.RUNNING
        execution.started_at = run.now
        run.log("info", f"Run started ({execution.trigger}, {execution.mode})")
        trigger = run.steps[run.graph.trigger.id]
        if trigger.status == StepRun.Status.PENDING:  # a retry reuses the trigger's result
            run_inline(run, trigger)
        advance_and_save(run)
