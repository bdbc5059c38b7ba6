"""Building the canonical definition: converting nodes in graph order, one trigger, edges with ports."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from executions.engine import registry
from executions.engine.types import ERROR_PORT
from workflows.importers.n8n.base import MAX_ID_LENGTH, Converted, N8nNode, Source, Unsupported, slug
from workflows.importers.n8n.converters import CONVERTERS
from workflows.importers.n8n.expressions import Scope
from workflows.importers.n8n.graph import Link, break_cycles, read_links, read_nodes, topological

_ON_ERROR = {"continueRegularOutput": "continue", "continueErrorOutput": "error_port"}
_MAX_TIMEOUT = 30 * 86400


@dataclass
class _Node:
    """A converted node and what edges and references need to know about it."""

    source: N8nNode
    definition: dict[str, Any]
    ports: tuple[str | None, ...] | None
    data: str  # see Spec.data
    current: str | None  # where its predecessor's items are (what $json meant in it)
    is_trigger: bool
    unsupported: bool = False


class Builder:
    """One import: ``build()`` answers the canonical definition; ``warnings`` says what changed on the way."""

    def __init__(self, payload: Mapping[str, Any]) -> None:
        self.payload = payload
        self.warnings: list[dict[str, Any]] = []
        self.variables: dict[str, Any] = {}
        self.timezone = _timezone(payload.get("settings"))
        nodes = read_nodes(payload["nodes"])
        self.nodes = {node.name: node for node in nodes}
        self.ids = _node_ids(nodes)
        triggers_first = sorted(self.nodes, key=lambda name: not _is_trigger_type(self.nodes[name].type))
        links = read_links(payload.get("connections"), set(self.nodes), self.warnings)
        self.links = break_cycles(links, triggers_first, self.warnings)
        self.predecessors: dict[str, list[str]] = {name: [] for name in self.nodes}
        for link in self.links:
            if link.source not in self.predecessors[link.target]:
                self.predecessors[link.target].append(link.source)
        self.adds_trigger = not any(_is_trigger_type(node.type) for node in nodes)
        self.converted: dict[str, _Node] = {}

    def build(self) -> dict[str, Any]:
        for name in topological(list(self.nodes), self.links):
            self.converted[name] = self._convert(self.nodes[name])
        self._report_credentials()
        trigger = self._single_trigger()
        edges = self._edges()
        nodes = [self.converted[name].definition for name in self.nodes if not self.converted[name].is_trigger]
        nodes.insert(0, self.converted[trigger].definition if trigger else self._added_trigger(edges))
        definition: dict[str, Any] = {"nodes": nodes, "edges": edges, "variables": self.variables}
        definition["settings"] = _settings(self.payload.get("settings"))
        self.warnings.sort(key=_node_order)
        return definition

    # --- references --------------------------------------------------------------

    def _steps(self, name: str) -> str:
        node_id = self.ids[name]
        return f"steps.{node_id}.output" if re.fullmatch(r"[A-Za-z_]\w*", node_id) else f'steps["{node_id}"].output'

    def items_of(self, name: str) -> str | None:
        """Where the n8n items a node outputs are in Flowbuilder (None: ambiguous or unknown)."""
        node = self.converted.get(name)
        spec = CONVERTERS.get(self.nodes[name].type)
        data = node.data if node else (spec.data if spec else "through")
        if data == "input":
            return "input"
        if data == "output":
            return self._steps(name)
        if data == "body":
            return self._steps(name) + ".body"
        return node.current if node and data == "through" else None

    def _current(self, name: str) -> str | None:
        """What ``$json`` means in the node ``name``: its single predecessor's items."""
        predecessors = self.predecessors[name]
        if not predecessors:
            return "input" if self.adds_trigger else None
        places = {self.items_of(predecessor) for predecessor in predecessors}
        return places.pop() if len(places) == 1 else None

    # --- nodes -------------------------------------------------------------------

    def _convert(self, node: N8nNode) -> _Node:
        current = self._current(node.name)
        scope = Scope(current=current, named=lambda name: self.items_of(name) if name in self.nodes else None)
        source = Source(node, self.ids[node.name], scope, self.timezone, self.warnings, self.variables)
        spec = CONVERTERS.get(node.type)
        if spec is None:
            return self._unsupported(source, _is_trigger_type(node.type), None)
        try:
            converted = spec.convert(source)
        except Unsupported as reason:
            return self._unsupported(source, spec.trigger, str(reason))
        return self._node(source, converted, data=spec.data, trigger=spec.trigger)

    def _node(self, source: Source, converted: Converted, *, data: str, trigger: bool, name: str = "") -> _Node:
        node, raw = source.node, source.node.raw
        definition: dict[str, Any] = {
            "id": source.node_id,
            "type": converted.type,
            "name": (name or node.name)[:200],
            "config": converted.config,
        }
        position = raw.get("position")
        if isinstance(position, list) and len(position) == 2 and all(isinstance(v, int | float) for v in position):
            definition["position"] = {"x": position[0], "y": position[1]}
        if raw.get("disabled") is True:
            definition["disabled"] = True
        if isinstance(raw.get("notes"), str) and raw["notes"].strip():
            definition["notes"] = raw["notes"][:5000]
        error_output = False
        if not trigger:
            definition.update(_run_settings(raw))
            error_output = definition.get("on_error") == "error_port"
        ports = converted.ports
        if error_output and ports is not None:
            ports = (*ports, ERROR_PORT)
        return _Node(node, definition, ports, data, source.scope.current, trigger)

    def _unsupported(self, source: Source, trigger: bool, reason: str | None) -> _Node:
        node = source.node
        replacement = "a manual trigger" if trigger else "a pass-through"
        if reason is None:
            message = f"n8n node '{node.name}' of type '{node.type}' has no Flowbuilder equivalent"
        else:
            message = f"n8n node '{node.name}' of type '{node.type}' cannot be imported: it {reason}"
        self.warnings.append({"field": f"nodes[{node.index}]", "message": f"{message}; replaced by {replacement}"})
        if trigger:
            converted, data = Converted("trigger.manual", {}), "input"
        else:
            converted, data = Converted("transform", {"value": source.pass_through()}, ports=None), "through"
        result = self._node(
            source, converted, data=data, trigger=trigger, name=f"{node.name} (unsupported: {node.type})"
        )
        result.unsupported = True
        return result

    def _report_credentials(self) -> None:
        for name, node in self.converted.items():
            credentials = node.source.raw.get("credentials")
            if not isinstance(credentials, Mapping) or not credentials:
                continue
            used = ", ".join(
                f"'{value.get('name')}' ({kind})" if isinstance(value, Mapping) else f"({kind})"
                for kind, value in credentials.items()
            )
            message = f"n8n node '{name}': n8n credentials are not imported ({used})"
            node_type = registry.get(node.definition["type"])
            if node_type is not None and node_type.credential_types:
                *others, last = node_type.credential_types
                kinds = f"{', '.join(others)} or {last}" if others else last
                message += f": pick a Flowbuilder {kinds} credential"
            placeholder = node.definition["config"].get("credential")
            if isinstance(placeholder, str) and placeholder.startswith("{{ vars."):
                variable = placeholder.removeprefix("{{ vars.").removesuffix(" }}")
                message += f" in config.credential, which reads the empty workflow variable '{variable}' until then"
            self.warnings.append({"field": f"nodes[{node.source.index}].credentials", "message": message})

    # --- the trigger --------------------------------------------------------------

    def _single_trigger(self) -> str | None:
        """Keep one trigger (a webhook or schedule before a manual one); the others' connections move to it."""
        triggers = [name for name in self.nodes if self.converted[name].is_trigger]
        if not triggers:
            return None

        def rank(name: str) -> int:
            node = self.converted[name]
            return 2 if node.unsupported else (1 if node.definition["type"] == "trigger.manual" else 0)

        kept = min(triggers, key=rank)
        for name in triggers:
            if name != kept:
                self.warnings.append(
                    {
                        "field": f"nodes[{self.nodes[name].index}]",
                        "message": f"n8n node '{name}' is another trigger; a Flowbuilder workflow has one, so it was "
                        f"removed and its connections now start at '{kept}'",
                    }
                )
        self.links = [
            Link(kept, 0, link.target, link.at) if self.converted[link.source].is_trigger else link
            for link in self.links
        ]
        return kept

    def _added_trigger(self, edges: list[dict[str, Any]]) -> dict[str, Any]:
        """A manual trigger wired to every node without predecessors."""
        trigger_id = "start"
        while trigger_id in self.ids.values():
            trigger_id += "_"
        targets = {edge["target"] for edge in edges}
        roots = [self.converted[name] for name in self.nodes if self.ids[name] not in targets]
        for root in roots:
            edges.append({"id": f"e{len(edges) + 1}", "source": trigger_id, "target": root.definition["id"]})
        trigger: dict[str, Any] = {"id": trigger_id, "type": "trigger.manual", "name": "Start", "config": {}}
        positions = [root.definition["position"] for root in roots if "position" in root.definition]
        if positions:
            first = min(positions, key=lambda position: position["x"])
            trigger["position"] = {"x": first["x"] - 220, "y": first["y"]}
        self.warnings.append(
            {
                "field": "nodes",
                "message": f"The n8n workflow has no trigger; a manual trigger '{trigger_id}' was added before "
                "its first nodes",
            }
        )
        return trigger

    # --- edges -------------------------------------------------------------------

    def _edges(self) -> list[dict[str, Any]]:
        edges: list[dict[str, Any]] = []
        seen: set[tuple[str, str, str | None]] = set()
        for link in self.links:
            source, target = self.converted[link.source], self.converted[link.target]
            if target.is_trigger:
                continue  # n8n triggers have no inputs; a link to one cannot come from an export
            found, port = _port(source.ports, link.output)
            if not found:
                self.warnings.append(
                    {
                        "field": link.at,
                        "message": f"Output {link.output} of '{link.source}' has no Flowbuilder equivalent; "
                        f"its connection to '{link.target}' is not imported",
                    }
                )
                continue
            key = (source.definition["id"], target.definition["id"], port)
            if key in seen:
                continue
            seen.add(key)
            edge = {"id": f"e{len(edges) + 1}", "source": key[0], "target": key[1]}
            if port:
                edge["source_port"] = port
            edges.append(edge)
        return edges


def _node_order(warning: dict[str, Any]) -> int:
    """Warnings about ``nodes[i]`` in node order, after those about the whole workflow."""
    match = re.match(r"nodes\[(\d+)\]", warning["field"])
    return int(match.group(1)) if match else -1


def _port(ports: tuple[str | None, ...] | None, output: int) -> tuple[bool, str | None]:
    if ports is None:
        return True, None
    if 0 <= output < len(ports):
        return True, ports[output]
    return False, None


def _is_trigger_type(node_type: str) -> bool:
    spec = CONVERTERS.get(node_type)
    return spec.trigger if spec else node_type.lower().endswith("trigger")


def _node_ids(nodes: list[N8nNode]) -> dict[str, str]:
    """Each name's id: its slug, with ``_2``, ``_3``… where slugs collide."""
    ids: dict[str, str] = {}
    used: set[str] = set()
    for node in nodes:
        base = candidate = slug(node.name)
        counter = 2
        while candidate in used:
            suffix = f"_{counter}"
            candidate = base[: MAX_ID_LENGTH - len(suffix)] + suffix
            counter += 1
        used.add(candidate)
        ids[node.name] = candidate
    return ids


def _run_settings(raw: Mapping[str, Any]) -> dict[str, Any]:
    """n8n's node settings: Retry On Fail and On Error."""
    settings: dict[str, Any] = {}
    if raw.get("retryOnFail") is True:
        tries, wait = raw.get("maxTries", 3), raw.get("waitBetweenTries", 1000)
        settings["retry"] = {
            "max_attempts": min(max(int(tries), 1), 10) if isinstance(tries, int | float) else 3,
            "backoff_seconds": min(max(wait / 1000, 0), 3600) if isinstance(wait, int | float) else 1,
        }
    on_error = raw.get("onError") or ("continueRegularOutput" if raw.get("continueOnFail") is True else None)
    if on_error in _ON_ERROR:
        settings["on_error"] = _ON_ERROR[on_error]
    return settings


def _timezone(settings: Any) -> str | None:
    zone = settings.get("timezone") if isinstance(settings, Mapping) else None
    if not isinstance(zone, str) or zone == "DEFAULT":
        return None
    try:
        ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return zone


def _settings(settings: Any) -> dict[str, Any]:
    timeout = settings.get("executionTimeout") if isinstance(settings, Mapping) else None
    if isinstance(timeout, int | float) and 0 < timeout <= _MAX_TIMEOUT:
        return {"timeout_seconds": timeout}
    return {}
