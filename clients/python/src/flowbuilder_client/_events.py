"""The messages of a live socket (SPEC §4), as ``executions.stream`` yields them."""

from __future__ import annotations

from typing import Any, TypedDict


class ExecutionEvent(TypedDict, total=False):
    """``type`` is ``snapshot`` (first), ``execution_update``, ``step_update``, ``log``, ``ping``, then
    ``execution_completed`` (``data.output_data``) or ``execution_failed`` (``data.error``), the last one."""

    type: str
    execution_id: str
    workflow_id: str
    status: str
    progress: int
    current_step: str
    node_id: str
    data: dict[str, Any]
    steps: Any
    timestamp: str
