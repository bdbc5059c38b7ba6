"""Starting a run: its trigger and the inline nodes that follow."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from executions.engine.runner.advance import advance_and_save, run_inline
from executions.engine.runner.finish import finish
from executions.engine.runner.state import load_run, save_run
from executions.models import Execution, StepRun


def start_execution(execution_id: Any) -> None:
    """Run the trigger and whatever inline nodes follow; queue the first dispatched steps.

    Does nothing for an execution that is not queued (a duplicate delivery).
    """
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
