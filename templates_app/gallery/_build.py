"""Small builders for the gallery's definitions: nodes, edges, parameters, and a tidy layout."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from templates_app.parameters import ParameterSpec

# Retries for calls to other services: transient failures are the rule, not the exception.
HTTP_RETRY = {"max_attempts": 3, "backoff_seconds": 5, "backoff_max_seconds": 60}


def param(
    name: str,
    parameter_type: str = "string",
    description: str = "",
    *,
    required: bool = False,
    default: Any = None,
    choices: Iterable[Any] = (),
) -> ParameterSpec:
    return ParameterSpec(
        name=name,
        parameter_type=parameter_type,
        description=description,
        is_required=required,
        default_value=default,
        choices=tuple(choices),
    )


def node(node_id: str, node_type: str, name: str, config: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    """A canonical node; ``extra`` holds node-level settings (retry, timeout_seconds, on_error)."""
    return {"id": node_id, "type": node_type, "name": name, "config": config or {}, **extra}


def edge(source: str, target: str, port: str | None = None) -> dict[str, Any]:
    result = {"id": f"{source}-{port}-{target}" if port else f"{source}-{target}", "source": source, "target": target}
    if port:
        result["source_port"] = port
    return result


def definition(
    nodes: list[dict[str, Any]],
    edges: list[dict[str, Any]],
    *,
    variables: dict[str, Any] | None = None,
    settings: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A canonical definition with editor positions: columns by distance from the trigger."""
    depth = {nodes[0]["id"]: 0}
    changed = True
    while changed:  # longest path from the trigger; the graphs are small DAGs
        changed = False
        for e in edges:
            if e["source"] in depth and depth.get(e["target"], -1) < depth[e["source"]] + 1:
                depth[e["target"]] = depth[e["source"]] + 1
                changed = True
    rows: dict[int, int] = {}
    placed = []
    for item in nodes:
        column = depth.get(item["id"], 0)
        row = rows.get(column, 0)
        rows[column] = row + 1
        placed.append({**item, "position": {"x": 280 * column, "y": 160 * row}})
    return {"nodes": placed, "edges": edges, "variables": variables or {}, "settings": settings or {}}
