"""Definition validation: every problem at once, each with a JSON path.

:func:`validate_definition` normalises first (seed formats, aliases), then
checks structure, node types and their config schemas, expressions, edges
and ports, the single trigger, cycles, limits and reachability. Errors make a
definition unusable; warnings (an unreachable node, a reference to a step
that cannot have run) do not.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError as SchemaError

from executions.engine import expressions, registry
from executions.engine.definition import normalize
from executions.engine.types import ERROR_PORT

MAX_NODES = 500
MAX_DEFINITION_BYTES = 1_000_000
NODE_ID_PATTERN = r"^[A-Za-z0-9_][A-Za-z0-9_.\-]{0,63}$"

Problem = dict[str, Any]
# Given a credential reference found in a node's config, say what is wrong with it (or None).
CredentialChecker = Callable[[str, tuple[str, ...]], str | None]

NODE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "type"],
    "properties": {
        "id": {"type": "string", "pattern": NODE_ID_PATTERN},
        "type": {"type": "string", "minLength": 1},
        "name": {"type": "string", "maxLength": 200},
        "notes": {"type": "string", "maxLength": 5000},
        "config": {"type": "object"},
        "position": {
            "type": "object",
            "properties": {"x": {"type": "number"}, "y": {"type": "number"}},
        },
        "retry": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "max_attempts": {"type": "integer", "minimum": 1, "maximum": 10},
                "backoff_seconds": {"type": "number", "minimum": 0, "maximum": 3600},
                "backoff_max_seconds": {"type": "number", "minimum": 0, "maximum": 86400},
            },
        },
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 86400},
        "on_error": {"enum": ["stop", "continue", "error_port"]},
        "disabled": {"type": "boolean"},
    },
    "additionalProperties": False,
}

EDGE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["source", "target"],
    "properties": {
        "id": {"type": "string", "maxLength": 200},
        "source": {"type": "string"},
        "target": {"type": "string"},
        "source_port": {"type": "string", "maxLength": 64},
    },
    "additionalProperties": False,
}

SETTINGS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "timeout_seconds": {"type": "number", "exclusiveMinimum": 0, "maximum": 30 * 86400},
        "max_concurrency": {"type": "integer", "minimum": 1, "maximum": 1000},
        "concurrency_policy": {"enum": ["queue", "reject"]},
        "on_error": {"enum": ["stop", "continue"]},
    },
    "additionalProperties": False,
}

_validators: dict[int, Draft202012Validator] = {}


def _validator(schema: Mapping[str, Any]) -> Draft202012Validator:
    key = id(schema)
    if key not in _validators:
        _validators[key] = Draft202012Validator(schema)
    return _validators[key]


@dataclass
class ValidationReport:
    definition: Any
    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.errors

    def error(self, path: str, message: str) -> None:
        self.errors.append({"field": path, "message": message})

    def warn(self, path: str, message: str) -> None:
        self.warnings.append({"field": path, "message": message})


def json_path(base: str, parts: Iterable[Any]) -> str:
    path = base
    for part in parts:
        path += f"[{part}]" if isinstance(part, int) else f".{part}"
    return path


def _schema_problems(instance: Any, schema: Mapping[str, Any], base: str) -> list[tuple[str, str]]:
    problems = []
    for error in sorted(_validator(schema).iter_errors(instance), key=lambda e: list(map(str, e.absolute_path))):
        problems.extend(_describe(error, base))
    return problems


def _describe(error: SchemaError, base: str) -> list[tuple[str, str]]:
    path = json_path(base, error.absolute_path)
    if error.validator == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        if missing:
            return [(f"{path}.{missing.group(1)}", "This field is required")]
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        return [(f"{path}.{name}", f"Unknown setting '{name}'") for name in extra] or [(path, error.message)]
    if error.validator in ("anyOf", "oneOf") and error.context:
        # Report the branch that got furthest instead of "is not valid under any of the given schemas".
        best = max(error.context, key=lambda e: len(e.absolute_path))
        if len(best.absolute_path) > len(error.absolute_path) or best.validator not in ("type", "pattern"):
            return [(json_path(base, best.absolute_path), best.message)]
        # Every branch failed at this level: the first branch is the field's real type.
        first = error.context[0]
        return [(path, f"{first.message}, or a {{{{ expression }}}}" if len(error.context) > 1 else first.message)]
    return [(path, error.message)]


_EDGE_TEXT_KEYS = ("id", "source", "target", "from", "to", "sourceHandle", "targetHandle", "source_port")


def _type_problems(raw: Any) -> list[tuple[str, str]]:
    """Ids, types and edge ends of the wrong JSON type, at their path, before anything uses them as keys."""
    if not isinstance(raw, Mapping):
        return []
    problems: list[tuple[str, str]] = []
    key = "nodes" if "nodes" in raw else "steps"
    nodes = raw.get(key)
    for index, node in enumerate(nodes if isinstance(nodes, list) else []):
        if not isinstance(node, Mapping):
            continue
        base = f"definition.{key}[{index}]"
        node_id = node.get("id")
        if "id" in node and (isinstance(node_id, bool) or not isinstance(node_id, (str, int))):
            problems.append((f"{base}.id", "A node id is a string"))
        if "type" in node and not isinstance(node.get("type"), str):
            problems.append((f"{base}.type", "A node type is a string"))
        depends = node.get("depends_on")
        if depends is not None:
            if not isinstance(depends, list):
                problems.append((f"{base}.depends_on", "depends_on is a list of step ids"))
            else:
                problems.extend(
                    (f"{base}.depends_on[{i}]", "A step id is a string")
                    for i, item in enumerate(depends)
                    if not isinstance(item, str)
                )
    key = "edges" if "edges" in raw else "connections"
    edges = raw.get(key)
    for index, edge in enumerate(edges if isinstance(edges, list) else []):
        if isinstance(edge, Mapping):
            problems.extend(
                (f"definition.{key}[{index}].{name}", f"'{name}' is a string")
                for name in _EDGE_TEXT_KEYS
                if name in edge
                and edge[name] is not None
                and not isinstance(edge[name], str)
                and not (name == "id" and isinstance(edge[name], int) and not isinstance(edge[name], bool))
            )
    return problems


def validate_definition(raw: Any, *, credential_checker: CredentialChecker | None = None) -> ValidationReport:
    """Normalise ``raw`` and report every problem with a path under ``definition``."""
    type_problems = _type_problems(raw)
    if type_problems:  # nothing below can use such values as keys: report them alone
        report = ValidationReport(definition=raw, warnings=[])
        for path, message in type_problems:
            report.error(path, message)
        return report
    normalized = normalize(raw)
    report = ValidationReport(definition=normalized.definition, warnings=list(normalized.warnings))
    definition = normalized.definition

    try:
        size = len(json.dumps(raw, separators=(",", ":")))
    except (TypeError, ValueError):
        size = 0
    if size > MAX_DEFINITION_BYTES:
        report.error("definition", f"The definition is {size:,} bytes; the limit is {MAX_DEFINITION_BYTES:,}")
        return report
    if not isinstance(definition, dict):
        report.error("definition", "The definition must be an object with 'nodes' and 'edges'")
        return report
    nodes = definition.get("nodes")
    if not isinstance(nodes, list) or not nodes:
        report.error("definition.nodes", "A definition needs a non-empty list of nodes")
        return report
    if len(nodes) > MAX_NODES:
        report.error("definition.nodes", f"{len(nodes)} nodes; a workflow may have at most {MAX_NODES}")
        return report
    edges = definition.get("edges", [])
    if not isinstance(edges, list):
        report.error("definition.edges", "'edges' must be a list")
        edges = []
    if not isinstance(definition.get("variables", {}), dict):
        report.error("definition.variables", "'variables' must be an object")
    for path, message in _schema_problems(definition.get("settings", {}), SETTINGS_SCHEMA, "definition.settings"):
        report.error(path, message)

    ports = _check_nodes(nodes, report, credential_checker)
    _check_edges(edges, ports, nodes, report)
    if not report.errors:
        _check_graph(nodes, edges, report)
    return report


def _check_nodes(
    nodes: list[Any], report: ValidationReport, credential_checker: CredentialChecker | None
) -> dict[str, set[str] | None]:
    """Check each node; answer its id → output ports (None when unknown) for the edge checks."""
    ports: dict[str, set[str] | None] = {}
    triggers: list[int] = []
    for index, node in enumerate(nodes):
        base = f"definition.nodes[{index}]"
        problems = _schema_problems(node, NODE_SCHEMA, base)
        for path, message in problems:
            report.error(path, message)
        if not isinstance(node, dict) or not isinstance(node.get("id"), str):
            continue
        node_id = node["id"]
        if node_id in ports:
            report.error(f"{base}.id", f"Duplicate node id '{node_id}'")
            continue
        ports[node_id] = None
        node_type = registry.get(node["type"]) if isinstance(node.get("type"), str) else None
        if node_type is None:
            if isinstance(node.get("type"), str):
                known = [t.type for t in registry.all_types()] + list(registry.ALIASES)
                hint = difflib.get_close_matches(node["type"], known, n=1)
                suggestion = f"; did you mean '{hint[0]}'?" if hint else ""
                report.error(f"{base}.type", f"Unknown node type '{node['type']}'{suggestion}")
            continue
        if node_type.is_trigger:
            triggers.append(index)
        config = node.get("config", {})
        if not isinstance(config, dict):
            continue
        config_base = f"{base}.config"
        for path, message in _schema_problems(config, node_type.config_schema, config_base):
            report.error(path, message)
        if node_type.check is not None:
            for path, message in node_type.check(config):
                report.error(f"{config_base}.{path}" if path else config_base, message)
        for path, message in expressions.find_syntax_errors(config, config_base, skip=node_type.raw_fields):
            report.error(path, f"Expression does not parse: {message}")
        _check_credentials(config, node_type.credential_types, config_base, report, credential_checker)
        output_ports = set(node_type.output_ports(config))
        if node.get("on_error") == "error_port":
            output_ports.add(ERROR_PORT)
        ports[node_id] = output_ports

    if not triggers:
        report.error("definition.nodes", "A workflow needs exactly one trigger node (e.g. trigger.manual); it has none")
    for index in triggers[1:]:
        report.error(
            f"definition.nodes[{index}].type", "A workflow needs exactly one trigger node; this is a second one"
        )
    return ports


def _check_credentials(
    config: dict[str, Any],
    credential_types: tuple[str, ...],
    base: str,
    report: ValidationReport,
    checker: CredentialChecker | None,
) -> None:
    if checker is None:
        return
    for key in ("credential", "hmac_credential"):
        ref = config.get(key)
        if isinstance(ref, str) and ref and not expressions.is_template(ref):
            expected = credential_types if key == "credential" else ("hmac_secret",)
            problem = checker(ref, expected)
            if problem:
                report.error(f"{base}.{key}", problem)


def _check_edges(
    edges: list[Any], ports: dict[str, set[str] | None], nodes: list[Any], report: ValidationReport
) -> None:
    triggers = {
        n["id"]
        for n in nodes
        if isinstance(n, dict) and isinstance(n.get("type"), str) and (t := registry.get(n["type"])) and t.is_trigger
    }
    seen: set[tuple[str, str, str | None]] = set()
    for index, edge in enumerate(edges):
        base = f"definition.edges[{index}]"
        problems = _schema_problems(edge, EDGE_SCHEMA, base)
        for path, message in problems:
            report.error(path, message)
        if problems:
            continue
        source, target, port = edge["source"], edge["target"], edge.get("source_port")
        for end in ("source", "target"):
            if edge[end] not in ports:
                report.error(f"{base}.{end}", f"Edge points to a node that does not exist: '{edge[end]}'")
        if source not in ports or target not in ports:
            continue
        if source == target:
            report.error(base, f"A node cannot connect to itself ('{source}')")
        if target in triggers:
            report.error(f"{base}.target", f"A trigger cannot have incoming edges ('{target}')")
        key = (source, target, port)
        if key in seen:
            report.error(base, f"Duplicate edge from '{source}' to '{target}'")
        seen.add(key)
        available = ports[source]
        if available is None:
            continue
        if port is None:
            named = sorted(available - {"main", ERROR_PORT})
            if "main" not in available and named:
                report.error(
                    f"{base}.source_port",
                    f"'{source}' has several outputs; choose one of: {', '.join(named)}",
                )
        elif port not in available:
            hint = " (set on_error to 'error_port' to use it)" if port == ERROR_PORT else ""
            report.error(
                f"{base}.source_port",
                f"'{source}' has no output port '{port}'; it has: {', '.join(sorted(available))}{hint}",
            )


def _check_graph(nodes: list[dict[str, Any]], edges: list[dict[str, Any]], report: ValidationReport) -> None:
    from executions.engine.definition import Graph

    graph = Graph.from_definition({"nodes": nodes, "edges": edges})
    cycle = find_cycle(graph.outgoing)
    if cycle:
        report.error("definition.edges", f"The workflow has a cycle: {' → '.join(cycle)}")
        return
    reachable = set(graph.reachable_from(graph.trigger.id))
    index_of = {node["id"]: index for index, node in enumerate(nodes)}
    for node_id in graph.nodes:
        if node_id not in reachable:
            report.warn(
                f"definition.nodes[{index_of[node_id]}]",
                f"'{node_id}' is not reachable from the trigger; it will never run",
            )
    for node_id, node in graph.nodes.items():
        node_type = registry.get(node.type)
        skip = node_type.raw_fields if node_type else frozenset()
        upstream = graph.ancestors(node_id)
        base = f"definition.nodes[{index_of[node_id]}].config"
        for ref in expressions.references(node.config, base, skip=skip):
            _check_reference(ref, node_id, graph, upstream, report)


def _suggest(name: str, candidates: Iterable[str]) -> str:
    hint = difflib.get_close_matches(name, list(candidates), n=1)
    return f"; did you mean '{hint[0]}'?" if hint else ""


def _check_reference(
    ref: expressions.Reference, node_id: str, graph: Any, upstream: set[str], report: ValidationReport
) -> None:
    """An expression that names what cannot be there fails at save, not at run time."""
    for root in sorted(ref.unknown_roots):
        suggestion = _suggest(root, expressions.ROOT_NAMES) or f"; did you mean 'input.{root}'?"
        report.error(
            ref.path,
            f"Unknown name '{root}'{suggestion} (expressions start from input, steps, vars, execution or credentials)",
        )
    for step in sorted(ref.steps - upstream):
        if step == node_id:
            report.error(ref.path, f"'{node_id}' uses its own output (steps.{step}); it has none while it runs")
        elif step in graph.nodes:
            report.error(
                ref.path, f"'{node_id}' uses steps.{step}, which cannot have run before it (no path leads from it)"
            )
        else:
            report.error(ref.path, f"There is no node '{step}'{_suggest(step, graph.nodes)}")


def find_cycle(outgoing: Mapping[str, Iterable[Any]]) -> list[str] | None:
    """A cycle as a list of node ids (first repeated at the end), or None. Iterative DFS."""
    white, grey, black = 0, 1, 2
    color = dict.fromkeys(outgoing, white)
    for root in outgoing:
        if color[root] != white:
            continue
        stack: list[tuple[str, Iterator[Any]]] = [(root, iter(outgoing[root]))]
        path = [root]
        color[root] = grey
        while stack:
            node, children = stack[-1]
            child = next(children, None)
            if child is None:
                stack.pop()
                path.pop()
                color[node] = black
                continue
            target = child.target
            if color[target] == grey:
                return [*path[path.index(target) :], target]
            if color[target] == white:
                color[target] = grey
                path.append(target)
                stack.append((target, iter(outgoing[target])))
    return None
