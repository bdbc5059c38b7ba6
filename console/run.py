"""What the console's run page shows: the graph coloured by step status, a timeline, each node's details.

``run_view`` is read once per page (and again by its ``…/live.json`` when the page's socket says
something changed): a handful of queries, the JSON documents cut to a preview size, secrets in
node configs redacted.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from audit.redaction import redact
from executions.models import Execution, ExecutionLog, StepRun
from executions.selectors import execution_steps

PREVIEW_CHARS = 20_000
LOG_LINES_PER_NODE = 200
CHILDREN_PER_NODE = 50
CANCELLABLE = {Execution.Status.QUEUED, Execution.Status.RUNNING, Execution.Status.WAITING}
RETRYABLE = {Execution.Status.FAILED, Execution.Status.CANCELLED, Execution.Status.TIMED_OUT}


def iso_ms(value: datetime | None) -> str | None:
    """A time to the millisecond, in UTC (the page shows it in the viewer's zone)."""
    return value.astimezone(UTC).isoformat(timespec="milliseconds") if value else None


def preview(value: Any) -> str:
    """Indented JSON, cut at PREVIEW_CHARS (the REST API has the whole value)."""
    if value is None:
        return ""
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    return (
        text
        if len(text) <= PREVIEW_CHARS
        else text[:PREVIEW_CHARS] + f"\n… ({len(text) - PREVIEW_CHARS:,} more characters)"
    )


def _attempts(step: StepRun, earlier: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One bar per attempt: those that failed (or whose worker was lost) from their log lines, then this one."""
    bars = [
        {
            "attempt": record.get("attempt"),
            "status": "failed",
            "outcome": record.get("outcome", "failed"),
            "queued_at": record.get("queued_at"),
            "started_at": record.get("started_at"),
            "finished_at": record["at"],
        }
        for record in earlier
        if record.get("started_at")
    ]
    # A step waiting for its retry is that attempt's log record already: one bar per attempt.
    if step.started_at and step.attempt not in {bar["attempt"] for bar in bars}:
        bars.append(
            {
                "attempt": step.attempt,
                "status": step.status,
                "outcome": step.status,
                "queued_at": iso_ms(step.queued_at) if not bars else None,
                "started_at": iso_ms(step.started_at),
                "finished_at": iso_ms(step.completed_at),
                "open": step.completed_at is None,
            }
        )
    return bars


def run_view(execution: Execution) -> dict[str, Any]:
    """Everything the run page draws, as JSON-ready values."""
    now = timezone.now()
    definition = execution.workflow_version.definition or {}
    nodes = {str(n.get("id")): n for n in definition.get("nodes") or [] if isinstance(n, dict)}
    steps = execution_steps(execution)
    outputs = {step.node_id: step.output for step in steps}
    predecessors: dict[str, list[str]] = defaultdict(list)
    for edge in definition.get("edges") or []:
        if isinstance(edge, dict):
            predecessors[str(edge.get("target"))].append(str(edge.get("source")))

    logs: dict[str, list[dict[str, Any]]] = defaultdict(list)
    earlier: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for line in (
        ExecutionLog.objects.filter(execution=execution)
        .order_by("id")
        .only("node_id", "level", "message", "data", "created_at")
    ):
        if isinstance(line.data, dict) and line.data.get("outcome") in ("failed", "lost"):
            earlier[line.node_id].append({**line.data, "at": iso_ms(line.created_at)})
        if len(logs[line.node_id]) < LOG_LINES_PER_NODE:
            logs[line.node_id].append({"level": line.level, "message": line.message, "at": iso_ms(line.created_at)})

    children: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for child in (
        Execution.objects.filter(parent=execution)
        .select_related("parent_step")
        .only("pk", "status", "child_index", "parent_step__node_id")
        .order_by("child_index", "created_at")
    ):
        node_id = child.parent_step.node_id if child.parent_step else ""
        if len(children[node_id]) < CHILDREN_PER_NODE:
            children[node_id].append(
                {
                    "id": str(child.pk),
                    "index": child.child_index,
                    "status": child.status,
                    "url": reverse("admin:executions_execution_change", args=[child.pk]),
                }
            )

    view_steps = []
    for step in steps:
        node = nodes.get(step.node_id, {})
        if node.get("type", "").startswith("trigger"):
            node_input: Any = execution.input_data
        else:
            node_input = {source: outputs.get(source) for source in predecessors.get(step.node_id, [])}
        view_steps.append(
            {
                "node_id": step.node_id,
                "name": node.get("name") or step.node_id,
                "type": step.node_type,
                "status": step.status,
                "attempt": step.attempt,
                "queued_at": iso_ms(step.queued_at),
                "started_at": iso_ms(step.started_at),
                "completed_at": iso_ms(step.completed_at),
                "input": preview(node_input),
                "config": preview(redact(node.get("config") or {})),
                "output": preview(step.output),
                "error": preview(step.error),
                "logs": logs.get(step.node_id, []),
                "children": children.get(step.node_id, []),
                "attempts": _attempts(step, earlier.get(step.node_id, [])),
            }
        )
    return {
        "id": str(execution.pk),
        "status": execution.status,
        "workflow_name": execution.workflow.name,
        "created_at": iso_ms(execution.created_at),
        "started_at": iso_ms(execution.started_at),
        "completed_at": iso_ms(execution.completed_at),
        "now": iso_ms(now),
        "cancellable": execution.status in CANCELLABLE,
        "retryable": execution.status in RETRYABLE,
        "steps": view_steps,
    }
