"""Workflow definitions: the canonical form, normalisation of the seed formats, and graph access.

Canonical (SPEC "Definition format")::

    {"nodes": [{"id", "type", "name", "config", "position"?, "retry"?, "timeout_seconds"?,
                "on_error"?, "disabled"?}],
     "edges": [{"id", "source", "target", "source_port"?}],
     "variables": {...}, "settings": {...}}

:func:`normalize` also accepts the seed documents' shapes and returns the
canonical form: React-Flow nodes with ``data`` (its ``label`` becomes the
name) and ``connections`` (``source``/``target`` or ``from``/``to``,
``sourceHandle`` as the port), the step list with ``depends_on``, and the
type aliases (``http`` → ``http_request``). It never raises: what it cannot
make sense of is left for :mod:`executions.engine.validation` to report.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

from executions.engine import expressions, registry
from executions.engine.types import DEFAULT_PORT, ERROR_PORT

NODE_KEYS = ("id", "type", "name", "config", "position", "retry", "timeout_seconds", "on_error", "disabled", "notes")
_SEED_EDGE_KEYS = {"from": "source", "to": "target", "sourceHandle": "source_port", "targetHandle": "target_port"}


@dataclass
class Normalized:
    definition: Any
    warnings: list[dict[str, Any]] = field(default_factory=list)


def _warn(warnings: list[dict[str, Any]], path: str, message: str) -> None:
    warnings.append({"field": path, "message": message})


def _normalize_node(raw: Any, index: int, *, seed: bool, warnings: list[dict[str, Any]]) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    node = {key: copy.deepcopy(raw[key]) for key in NODE_KEYS if key in raw}
    if "data" in raw and "config" not in raw and isinstance(raw["data"], Mapping):
        config = dict(copy.deepcopy(raw["data"]))
        label = config.pop("label", None)
        if label is not None and "name" not in node:
            node["name"] = label
        node["config"] = config
        seed = True
    if isinstance(node.get("type"), str):
        canonical = registry.canonical_type(node["type"])
        if canonical != node["type"]:
            seed = True
        node["type"] = canonical
    node.setdefault("config", {})
    if isinstance(node.get("id"), (int, float)) and not isinstance(node.get("id"), bool):
        node["id"] = str(node["id"])
    if "name" not in node and isinstance(node.get("id"), str):
        node["name"] = node["id"]
    node_type = registry.get(node["type"]) if isinstance(node.get("type"), str) else None
    if seed and node_type is not None and isinstance(node["config"], dict):
        # Seed documents carry UI-only keys in `data`; keep what the type knows.
        known = set(node_type.config_schema.get("properties", {}))
        for key in sorted(set(node["config"]) - known):
            del node["config"][key]
            _warn(
                warnings,
                f"definition.nodes[{index}].config.{key}",
                f"Dropped '{key}': not a setting of {node_type.type}",
            )
    return node


def _normalize_edge(raw: Any, index: int) -> Any:
    if not isinstance(raw, Mapping):
        return raw
    edge = {_SEED_EDGE_KEYS.get(key, key): value for key, value in raw.items()}
    edge.pop("target_port", None)  # every node has a single input
    if edge.get("source_port") in (None, "", DEFAULT_PORT):
        edge.pop("source_port", None)
    edge.setdefault("id", f"e{index + 1}")
    return {key: edge[key] for key in ("id", "source", "target", "source_port") if key in edge}


def normalize(raw: Any) -> Normalized:
    """Return the canonical form of ``raw`` and warnings about what was changed."""
    warnings: list[dict[str, Any]] = []
    if not isinstance(raw, Mapping):
        return Normalized(raw, warnings)
    seed = "steps" in raw or "connections" in raw
    raw_nodes = raw.get("nodes", raw.get("steps"))
    if not isinstance(raw_nodes, list):
        result = {
            key: copy.deepcopy(value)
            for key, value in raw.items()
            if key in ("nodes", "edges", "variables", "settings")
        }
        return Normalized(result, warnings)

    nodes = [_normalize_node(node, i, seed=seed, warnings=warnings) for i, node in enumerate(raw_nodes)]
    raw_edges = raw.get("edges", raw.get("connections", []))
    edges = [_normalize_edge(edge, i) for i, edge in enumerate(raw_edges)] if isinstance(raw_edges, list) else raw_edges

    if isinstance(edges, list):
        existing = {(e.get("source"), e.get("target")) for e in edges if isinstance(e, dict)}
        for step in raw_nodes:
            depends = step.get("depends_on") if isinstance(step, Mapping) else None
            if not isinstance(depends, list):
                continue
            for source in depends:
                if (source, step.get("id")) not in existing:
                    existing.add((source, step.get("id")))
                    edges.append({"id": f"e{len(edges) + 1}", "source": source, "target": step.get("id")})
        _dedupe_edge_ids(edges)
        if seed:
            _add_missing_trigger(nodes, edges, warnings)
    # The seeds' node shape (settings under `data`) marks their writing conventions too.
    if seed or any(isinstance(r, Mapping) and "data" in r and "config" not in r for r in raw_nodes):
        _convert_single_brace_references(nodes, warnings)
        _convert_bare_input_names(nodes, warnings)
    if "steps" in raw:
        _scripts_read_their_dependencies(raw_nodes, nodes, warnings)

    definition: dict[str, Any] = {"nodes": nodes, "edges": edges}
    definition["variables"] = copy.deepcopy(raw.get("variables", {}))
    if seed and isinstance(definition["variables"], dict):
        for name, value in definition["variables"].items():
            if isinstance(value, str) and re.search(r"\{\{\s*env\.", value):
                _warn(
                    warnings,
                    f"definition.variables.{name}",
                    "Environment variables are not exposed to workflows: store the secret as a credential "
                    "and name it in the node's 'credential'",
                )
    definition["settings"] = copy.deepcopy(raw.get("settings", {}))
    return Normalized(definition, warnings)


_SINGLE_BRACE = re.compile(r"(?<!\{)\{\s*([A-Za-z_][\w-]*)\s*\}(?!\})")


def _reference(node: Mapping[str, Any]) -> str:
    """The expression a seed's ``{node_id}`` means: the trigger's input (the field its label names,
    if the input has one), an AI answer's text, or another step's output."""
    node_id, node_type = node["id"], registry.get(node.get("type") or "")
    if node_type is not None and node_type.is_trigger:
        key = re.sub(r"\W+", "_", str(node.get("name") or "")).strip("_").lower()
        return f"{{{{ input.{key} | default(input) }}}}" if key and key != node_id else "{{ input }}"
    if node.get("type") == "llm":
        return f"{{{{ steps.{node_id}.output.text }}}}"
    return f"{{{{ steps.{node_id}.output }}}}"


StringRewrite = Callable[[str, str], str]  # (text, its path) -> text


def _rewrite_config_strings(nodes: list[Any], rewrite: StringRewrite) -> None:
    """Apply ``rewrite`` to every string of every node's config, except the type's raw fields (code)."""

    def walk(value: Any, path: str) -> Any:
        if isinstance(value, str):
            return rewrite(value, path)
        if isinstance(value, dict):
            return {key: walk(item, f"{path}.{key}") for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item, f"{path}[{i}]") for i, item in enumerate(value)]
        return value

    for index, node in enumerate(nodes):
        if isinstance(node, dict) and isinstance(node.get("config"), dict):
            node_type = registry.get(node.get("type") or "")
            raw = node_type.raw_fields if node_type else frozenset()
            node["config"] = {
                key: value if key in raw else walk(value, f"definition.nodes[{index}].config.{key}")
                for key, value in node["config"].items()
            }


def _convert_single_brace_references(nodes: list[Any], warnings: list[dict[str, Any]]) -> None:
    """Seed documents write ``{input_1}`` for another node's value: make it an expression, and say so."""
    by_id = {n["id"]: n for n in nodes if isinstance(n, dict) and isinstance(n.get("id"), str)}

    def rewrite(text: str, path: str) -> str:
        def replace(match: re.Match[str]) -> str:
            name = match.group(1)
            if name not in by_id:
                _warn(warnings, path, f"'{{{name}}}' is plain text: expressions are written {{{{ … }}}}")
                return match.group(0)
            expression = _reference(by_id[name])
            _warn(warnings, path, f"'{{{name}}}' became {expression}")
            return expression

        return _SINGLE_BRACE.sub(replace, text) if "{" in text else text

    _rewrite_config_strings(nodes, rewrite)


def _convert_bare_input_names(nodes: list[Any], warnings: list[dict[str, Any]]) -> None:
    """Seed documents write ``{{customer_email}}`` for a field of the run's input: ``{{ input.customer_email }}``."""

    def rewrite(text: str, path: str) -> str:
        if not expressions.is_template(text):
            return text
        for name in sorted(expressions.unknown_roots(text) or ()):
            text = re.sub(rf"(\{{[{{%]-?\s*){re.escape(name)}(?=[\s.|\[}}]|$)", rf"\g<1>input.{name}", text)
            _warn(warnings, path, f"'{name}' became input.{name} (a field of the run's input)")
        return text

    _rewrite_config_strings(nodes, rewrite)


def _scripts_read_their_dependencies(raw_nodes: list[Any], nodes: list[Any], warnings: list[dict[str, Any]]) -> None:
    """In the step-list format a script reads ``input['step1']``: its dependencies' outputs by step id."""
    depends_on = {
        raw.get("id"): raw.get("depends_on")
        for raw in raw_nodes
        if isinstance(raw, Mapping) and isinstance(raw.get("id"), str)
    }
    for index, node in enumerate(nodes):
        if not (isinstance(node, dict) and node.get("type") == "script"):
            continue
        depends = [d for d in depends_on.get(node.get("id")) or [] if isinstance(d, str)]
        config = node.get("config")
        if depends and isinstance(config, dict) and "inputs" not in config:
            config["inputs"] = {d: f"{{{{ steps.{d}.output }}}}" for d in depends}
            _warn(
                warnings,
                f"definition.nodes[{index}].config.inputs",
                "The script reads its dependencies' outputs by step id: " + ", ".join(f"input['{d}']" for d in depends),
            )


def _dedupe_edge_ids(edges: list[Any]) -> None:
    seen: set[Any] = set()
    for index, edge in enumerate(edges):
        if isinstance(edge, dict):
            if edge.get("id") in seen:
                edge["id"] = f"e{index + 1}-{edge.get('source')}-{edge.get('target')}"
            seen.add(edge.get("id"))


def _add_missing_trigger(nodes: list[Any], edges: list[Any], warnings: list[dict[str, Any]]) -> None:
    """Step lists have no trigger: start them with a manual one wired to every root step."""
    typed = [n for n in nodes if isinstance(n, dict) and isinstance(n.get("type"), str)]
    if any((t := registry.get(n["type"])) is not None and t.is_trigger for n in typed):
        return
    ids = {n.get("id") for n in typed}
    trigger_id = "trigger"
    while trigger_id in ids:
        trigger_id += "_"
    targets = {e.get("target") for e in edges if isinstance(e, dict)}
    roots = [n["id"] for n in typed if n.get("id") not in targets]
    nodes.insert(0, {"id": trigger_id, "type": "trigger.manual", "name": "Start", "config": {}})
    for root in roots:
        edges.append({"id": f"e{len(edges) + 1}-{trigger_id}", "source": trigger_id, "target": root})
    _warn(warnings, "definition.nodes", f"Added a manual trigger '{trigger_id}' before the first steps")


# --- graph access for the runner and the validator ------------------------------


@dataclass(frozen=True)
class Edge:
    id: str
    source: str
    target: str
    source_port: str = DEFAULT_PORT


@dataclass(frozen=True)
class Node:
    id: str
    type: str
    name: str
    config: dict[str, Any]
    retry: dict[str, Any]
    timeout_seconds: float | None
    on_error: str | None  # None: the workflow's settings.on_error
    disabled: bool


@dataclass(frozen=True)
class Graph:
    """A read-only view of a *valid* canonical definition, with adjacency precomputed."""

    nodes: dict[str, Node]
    edges: tuple[Edge, ...]
    variables: dict[str, Any]
    settings: dict[str, Any]
    outgoing: dict[str, tuple[Edge, ...]]
    incoming: dict[str, tuple[Edge, ...]]

    @classmethod
    def from_definition(cls, definition: Mapping[str, Any]) -> Graph:
        nodes = {
            n["id"]: Node(
                id=n["id"],
                type=n["type"],
                name=n.get("name") or n["id"],
                config=n.get("config") or {},
                retry=n.get("retry") or {},
                timeout_seconds=n.get("timeout_seconds"),
                on_error=n.get("on_error"),
                disabled=bool(n.get("disabled", False)),
            )
            for n in definition["nodes"]
        }
        edges = tuple(
            Edge(id=e["id"], source=e["source"], target=e["target"], source_port=e.get("source_port") or DEFAULT_PORT)
            for e in definition.get("edges", [])
        )
        outgoing: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
        incoming: dict[str, list[Edge]] = {node_id: [] for node_id in nodes}
        for edge in edges:
            outgoing[edge.source].append(edge)
            incoming[edge.target].append(edge)
        return cls(
            nodes=nodes,
            edges=edges,
            variables=dict(definition.get("variables") or {}),
            settings=dict(definition.get("settings") or {}),
            outgoing={k: tuple(v) for k, v in outgoing.items()},
            incoming={k: tuple(v) for k, v in incoming.items()},
        )

    @property
    def trigger(self) -> Node:
        for node in self.nodes.values():
            node_type = registry.get(node.type)
            if node_type is not None and node_type.is_trigger:
                return node
        raise LookupError("definition has no trigger")

    @cached_property
    def execution_order(self) -> tuple[str, ...]:
        """Nodes reachable from the trigger, in topological order (the graph is acyclic)."""
        reachable = set(self.reachable_from(self.trigger.id))
        pending = {n: sum(1 for e in self.incoming[n] if e.source in reachable) for n in reachable}
        ready = [n for n in self.nodes if n in reachable and pending[n] == 0]
        order: list[str] = []
        while ready:
            node_id = ready.pop(0)
            order.append(node_id)
            for edge in self.outgoing[node_id]:
                pending[edge.target] -= 1
                if pending[edge.target] == 0:
                    ready.append(edge.target)
        return tuple(order)

    def reachable_from(self, start: str) -> list[str]:
        """Node ids reachable from ``start`` (inclusive), in breadth-first order."""
        seen = [start]
        queue = [start]
        while queue:
            for edge in self.outgoing[queue.pop(0)]:
                if edge.target not in seen:
                    seen.append(edge.target)
                    queue.append(edge.target)
        return seen

    def ancestors(self, node_id: str) -> set[str]:
        seen: set[str] = set()
        stack = [node_id]
        while stack:
            for edge in self.incoming[stack.pop()]:
                if edge.source not in seen:
                    seen.add(edge.source)
                    stack.append(edge.source)
        return seen

    def iter_edges_from(self, node_id: str, ports: set[str] | None = None) -> Iterator[Edge]:
        for edge in self.outgoing[node_id]:
            if ports is None or edge.source_port in ports:
                yield edge


def trigger_node(definition: Mapping[str, Any]) -> dict[str, Any] | None:
    """The (first) node of a trigger type in a stored definition, or None."""
    for node in definition.get("nodes", []):
        node_type = registry.get(node.get("type", ""))
        if node_type is not None and node_type.is_trigger:
            return dict(node)
    return None


def error_port_enabled(node: Mapping[str, Any] | Node) -> bool:
    on_error = node.on_error if isinstance(node, Node) else node.get("on_error")
    return on_error == "error_port"


__all__ = ["ERROR_PORT", "Edge", "Graph", "Node", "Normalized", "error_port_enabled", "normalize"]
