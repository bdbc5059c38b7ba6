"""Child runs (``sub_workflow``, ``for_each``) and the rows every run starts from.

The runner creates children here, in the parent's transaction. Whether the parent's owner may
run the child's workflow is the access layer's call, not the engine's: ``executions`` installs
that check (:func:`install`) when Django loads it, as it installs the dispatcher.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import timedelta
from functools import lru_cache
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator

from executions.engine.definition import trigger_node
from executions.engine.types import ChildRun, NodeError
from executions.engine.validation import json_path
from executions.models import Execution, StepRun
from flowbuilder import clock
from flowbuilder.api.errors import PayloadTooLarge, ValidationFailed
from workflows.models import Workflow, WorkflowVersion

# (the parent run's owner, the child's workflow id as the node gave it) → that workflow, when the owner may run it.
ChildAccess = Callable[[Any, Any], Workflow | None]

_access: ChildAccess | None = None


def install(access: ChildAccess | None) -> None:
    global _access
    _access = access


@lru_cache(maxsize=1024)
def _version(workflow_id: Any, number: int) -> WorkflowVersion:
    return WorkflowVersion.objects.get(workflow_id=workflow_id, number=number)


def current_version(workflow: Workflow) -> WorkflowVersion:
    """The workflow's current version; versions never change, so each is read once per process."""
    return _version(workflow.pk, workflow.version)


def input_problems(definition: dict[str, Any], input_data: Any) -> list[dict[str, Any]]:
    """Where ``input_data`` breaks the size limit or the manual trigger's ``input_schema``."""
    try:
        size = len(json.dumps(input_data, separators=(",", ":")))
    except (TypeError, ValueError):
        raise ValidationFailed("input_data must be JSON", field="input_data") from None
    limit = settings.FLOWBUILDER_MAX_INPUT_BYTES
    if size > limit:
        raise PayloadTooLarge(f"input_data is {size:,} bytes; the limit is {limit:,}")
    trigger = trigger_node(definition)
    schema = (
        (trigger or {}).get("config", {}).get("input_schema")
        if trigger and trigger["type"] == "trigger.manual"
        else None
    )
    if not schema:
        return []
    return [
        {"field": json_path("input_data", error.absolute_path), "message": error.message}
        for error in Draft202012Validator(schema).iter_errors(input_data)
    ]


def step_rows(execution: Execution, definition: dict[str, Any]) -> list[StepRun]:
    """One unsaved ``StepRun`` per node of ``definition``."""
    return [StepRun(execution=execution, node_id=node["id"], node_type=node["type"]) for node in definition["nodes"]]


def create_child(*, parent: Execution, parent_step: StepRun | None, child: ChildRun) -> Execution:
    """A sub-workflow or for_each run; raises NodeError when the parent's owner may not run that workflow."""
    if _access is None:
        raise RuntimeError("No child-run access check installed: the executions app was not loaded")
    workflow = _access(parent.owner, child.workflow_id)
    if workflow is None:
        raise NodeError(f"Workflow '{child.workflow_id}' not found", retryable=False)
    version = current_version(workflow)
    problems = input_problems(version.definition, child.input)
    if problems:
        raise NodeError(f"The child's input does not match its trigger: {problems[0]['message']}", retryable=False)
    timeout = (version.definition.get("settings") or {}).get("timeout_seconds")
    now = clock.now()
    execution = Execution.objects.create(
        workflow=workflow,
        workflow_version=version,
        owner_id=workflow.owner_id,
        triggered_by_id=parent.triggered_by_id,
        trigger=Execution.Trigger.FOR_EACH if child.index is not None else Execution.Trigger.SUB_WORKFLOW,
        mode=parent.mode,
        input_data=child.input,
        parent=parent,
        parent_step=parent_step,
        child_index=child.index,
        deadline=now + timedelta(seconds=timeout) if timeout else None,
        dispatched_at=now,
    )
    StepRun.objects.bulk_create(step_rows(execution, version.definition))
    return execution
