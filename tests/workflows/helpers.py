"""Small definitions shared by the workflow and execution tests."""

from __future__ import annotations

import itertools
from typing import Any


def node(node_id: str, node_type: str, **config: Any) -> dict[str, Any]:
    return {"id": node_id, "type": node_type, "name": node_id, "config": config}


def edge(source: str, target: str, port: str | None = None) -> dict[str, Any]:
    e: dict[str, Any] = {"id": f"{source}->{target}", "source": source, "target": target}
    if port:
        e["source_port"] = port
    return e


def linear(*nodes: dict[str, Any]) -> dict[str, Any]:
    """A definition whose nodes run one after the other."""
    return {
        "nodes": list(nodes),
        "edges": [edge(a["id"], b["id"]) for a, b in itertools.pairwise(nodes)],
        "variables": {},
        "settings": {},
    }


def simple_definition() -> dict[str, Any]:
    return linear(
        node("start", "trigger.manual"),
        node("double", "transform", value="{{ input.n * 2 }}"),
        node("out", "output", value={"result": "{{ steps.double.output }}"}),
    )
