"""What a node sees when it runs: the expression context and its rendered config."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from django.conf import settings
from jsonschema import Draft202012Validator

from executions.engine import expressions, registry
from executions.engine.definition import Graph, Node
from executions.engine.types import NodeError, NodeType
from executions.models import Execution, StepRun

_schema_validators: dict[str, Draft202012Validator] = {}


def needed_steps(graph: Graph, node: Node, node_type: NodeType) -> set[str]:
    """Steps whose outputs the node may read: every ``steps.<id>`` it names, and for inline
    nodes (``merge``, ``output`` read what reached them) its predecessors too."""
    config = {k: v for k, v in node.config.items() if k not in node_type.raw_fields}
    referenced = expressions.referenced_steps(config) & set(graph.nodes)
    if node_type.inline:
        referenced |= {edge.source for edge in graph.incoming[node.id]}
    return referenced


def load_outputs(execution_id: Any, node_ids: Iterable[str]) -> dict[str, dict[str, Any]]:
    """``{node_id: {"output", "status", "error", "ports"}}`` of finished steps among ``node_ids``: one query."""
    ids = list(node_ids)
    if not ids:
        return {}
    rows = StepRun.objects.filter(execution_id=execution_id, node_id__in=ids, status__in=StepRun.FINISHED).values_list(
        "node_id", "status", "output", "error", "ports"
    )
    return {
        node_id: {"output": output, "status": status, "error": error, "ports": ports}
        for node_id, status, output, error, ports in rows
    }


def taken_inputs(graph: Graph, node: Node, views: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Outputs of the predecessors whose edge into ``node`` was taken, by node id."""
    return {
        edge.source: views[edge.source].get("output")
        for edge in graph.incoming[node.id]
        if edge.source in views and edge.source_port in (views[edge.source].get("ports") or ())
    }


def child_results(step_id: int) -> list[dict[str, Any]]:
    """What the children of a waiting step produced: ``{index, status, output, error}`` each."""
    rows = Execution.objects.filter(parent_step_id=step_id).values_list("child_index", "status", "output_data", "error")
    return [
        {"index": index, "status": status, "output": output, "error": error} for index, status, output, error in rows
    ]


def expression_context(execution: Execution, graph: Graph, steps: Mapping[str, Any]) -> dict[str, Any]:
    return expressions.build_context(
        input=execution.input_data,
        steps=steps,
        variables=graph.variables,
        execution={
            "id": str(execution.pk),
            "workflow_id": str(execution.workflow_id),
            "started_at": execution.started_at.isoformat() if execution.started_at else None,
            "mode": execution.mode,
        },
    )


def render_config(node: Node, node_type: NodeType, context: Mapping[str, Any]) -> dict[str, Any]:
    """The node's config with its templates rendered, checked against its schema again.

    Raises a non-retryable NodeError naming the field when a template fails or
    a rendered value does not fit (``"abc"`` where a number belongs).
    """
    skip = node_type.raw_fields | node_type.deferred_fields
    try:
        config = expressions.render(node.config, context, path="config", skip=skip)
    except expressions.ExpressionError as exc:
        raise NodeError(str(exc), retryable=False) from None
    validator = _schema_validators.get(node_type.type)
    if validator is None:
        validator = _schema_validators[node_type.type] = Draft202012Validator(node_type.config_schema)
    error = next(iter(validator.iter_errors(config)), None)
    if error is not None:
        where = "config" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        raise NodeError(_schema_message(where, error), retryable=False)
    return dict(config)


def _schema_message(where: str, error: Any) -> str:
    """A short message: jsonschema's own repeats the whole (possibly huge) value."""
    if error.validator in ("anyOf", "oneOf") and error.context:
        error = error.context[0]  # the field's real type; the other branch is "an expression"
    if error.validator in ("maxItems", "minItems"):
        return f"{where} has {len(error.instance):,} items; the limit is {error.validator_value:,}"
    if error.validator in ("maxLength", "minLength"):
        return f"{where} has {len(error.instance):,} characters; the limit is {error.validator_value:,}"
    message = error.message if len(error.message) <= 300 else error.message[:300] + "…"
    return f"{where}: {message} (after rendering its expressions)"


def output_size_error(output: Any) -> str | None:
    """Why ``output`` cannot be stored as a step output (not JSON, or over the limit), or None."""
    try:
        size = len(json.dumps(output, separators=(",", ":")))
    except (TypeError, ValueError) as exc:
        return f"The step's output is not JSON: {exc}"
    limit = settings.FLOWBUILDER_MAX_STEP_OUTPUT_BYTES
    if size > limit:
        return f"The step's output is {size:,} bytes; the limit is {limit:,}"
    return None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return any(_has_nul(item) for item in value)
    return False


def _replace_nul(value: Any) -> Any:
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd")
    if isinstance(value, dict):
        return {_replace_nul(key): _replace_nul(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_replace_nul(item) for item in value]
    return value


def storable(value: Any) -> Any:
    """``value`` (JSON-like) with every NUL character replaced by U+FFFD; ``value`` itself when it has none.

    PostgreSQL's jsonb cannot hold ``\u0000``: a step output carrying one (a
    binary response read as text, a script's string) would fail the write
    that records the step, again at every retry.
    """
    return _replace_nul(value) if _has_nul(value) else value


def node_type_of(node: Node) -> NodeType:
    node_type = registry.get(node.type)
    if node_type is None:  # a plugin that is gone since the version was saved
        raise NodeError(f"Unknown node type '{node.type}'", retryable=False)
    return node_type
