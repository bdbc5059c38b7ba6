"""Starting child runs (``sub_workflow``, ``for_each``) from a step."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.conf import settings

from executions.engine import children as child_runs
from executions.engine.dispatch import dispatcher
from executions.engine.runner.state import Run
from executions.engine.types import ChildRun, NodeError
from executions.models import Execution, StepRun


def send_start(execution_id: Any) -> None:
    """Queue a run's start (after commit: the rows are the outbox, the sweep resends a lost message)."""
    dispatcher().start_execution(execution_id)


def start_children(run: Run, step: StepRun, children: tuple[ChildRun, ...], *, detached: bool = False) -> str | None:
    """Create the step's child runs and queue their starts after commit; answers why not, when they may not run."""
    depth, parent_id = 1, run.execution.parent_id
    while parent_id is not None:
        depth += 1
        parent_id = Execution.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    if depth >= settings.FLOWBUILDER_MAX_WORKFLOW_DEPTH:
        return f"Sub-workflows nest deeper than {settings.FLOWBUILDER_MAX_WORKFLOW_DEPTH} levels"
    for child in children:
        try:
            created = child_runs.create_child(parent=run.execution, parent_step=None if detached else step, child=child)
        except NodeError as exc:
            return exc.message
        run.log("info", f"Started child run {created.pk}", node_id=step.node_id, data={"execution_id": str(created.pk)})
        child_id = created.pk
        run.later(partial(send_start, child_id))
    return None
