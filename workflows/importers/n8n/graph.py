"""Reading an n8n export's nodes and connections, checked, into names and links.

n8n connections are keyed by node *name*:
``{"<source>": {"main": [[{"node": "<target>", "type": "main", "index": 0}], …]}}``,
one inner list per output of the source. Problems that make the export unusable
(a connection to a node that does not exist, duplicate names) raise
ValidationFailed with a path into the payload; what can be imported without
is reported as a warning.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flowbuilder.api.errors import ValidationFailed
from workflows.importers.n8n.base import N8nNode

STICKY_NOTE = "n8n-nodes-base.stickyNote"  # canvas annotations, not steps


@dataclass(frozen=True)
class Link:
    """A ``main`` connection from output ``output`` of ``source`` to ``target`` (node names)."""

    source: str
    output: int
    target: str
    at: str  # where it is in the payload, for messages


def read_nodes(raw_nodes: list[Any]) -> list[N8nNode]:
    """The export's nodes, sticky notes left out. Raises ValidationFailed listing every malformed node."""
    problems: list[dict[str, str]] = []
    nodes: list[N8nNode] = []
    names: set[str] = set()
    for index, raw in enumerate(raw_nodes):
        if not isinstance(raw, Mapping):
            problems.append({"field": f"nodes[{index}]", "message": "An n8n node must be an object"})
            continue
        name, node_type = raw.get("name"), raw.get("type")
        found = len(problems)
        if not isinstance(name, str) or not name:
            problems.append({"field": f"nodes[{index}].name", "message": "Every n8n node needs a name"})
        elif name in names:
            problems.append({"field": f"nodes[{index}].name", "message": f"Two nodes are named '{name}'"})
        if not isinstance(node_type, str) or not node_type:
            problems.append({"field": f"nodes[{index}].type", "message": "Every n8n node needs a type"})
        if len(problems) > found:
            continue
        names.add(name)
        if node_type == STICKY_NOTE:
            continue
        parameters = raw.get("parameters")
        version = raw.get("typeVersion", 1)
        nodes.append(
            N8nNode(
                index=index,
                name=name,
                type=node_type,
                version=version if isinstance(version, int | float) and not isinstance(version, bool) else 1,
                parameters=parameters if isinstance(parameters, Mapping) else {},
                raw=raw,
            )
        )
    if problems:
        raise ValidationFailed("The n8n workflow is invalid", details=problems)
    if not nodes:
        raise ValidationFailed("The n8n workflow has no nodes", field="nodes")
    return nodes


def read_links(connections: Any, names: set[str], warnings: list[dict[str, Any]]) -> list[Link]:
    """Every ``main`` connection; raises ValidationFailed for connections from or to unknown nodes."""
    if connections is None:
        return []
    if not isinstance(connections, Mapping):
        raise ValidationFailed("'connections' must be an object keyed by node name", field="connections")
    links: list[Link] = []
    problems: list[dict[str, str]] = []
    for source, kinds in connections.items():
        base = f"connections[{json.dumps(source, ensure_ascii=False)}]"
        if source not in names:
            problems.append({"field": base, "message": f"Connections start at '{source}', which is not a node"})
            continue
        for kind, outputs in (kinds or {}).items() if isinstance(kinds, Mapping) else ():
            if kind != "main":
                warnings.append(
                    {
                        "field": f"{base}.{kind}",
                        "message": f"n8n '{kind}' connections (of AI agents and chains) from '{source}' "
                        "have no Flowbuilder equivalent and are not imported",
                    }
                )
                continue
            for output, targets in enumerate(outputs if isinstance(outputs, list) else []):
                for position, target in enumerate(targets if isinstance(targets, list) else []):
                    at = f"{base}.main[{output}][{position}]"
                    name = target.get("node") if isinstance(target, Mapping) else None
                    if name not in names:
                        problems.append(
                            {
                                "field": f"{at}.node",
                                "message": f"The connection from '{source}' points to a node that does not exist: "
                                f"'{name}'",
                            }
                        )
                        continue
                    links.append(Link(source, output, name, at))
    if problems:
        raise ValidationFailed("The n8n workflow's connections are invalid", details=problems)
    return links


def break_cycles(links: list[Link], roots_first: Iterable[str], warnings: list[dict[str, Any]]) -> list[Link]:
    """Drop the connections that close a loop, e.g. back into Split in Batches: our workflows are acyclic.

    A depth-first walk from ``roots_first`` (triggers first) drops each link back to a node on the path.
    """
    outgoing: dict[str, list[Link]] = defaultdict(list)
    for link in links:
        outgoing[link.source].append(link)
    on_path, done, dropped = set(), set(), set()
    for root in roots_first:
        if root in done or root in on_path:
            continue
        stack = [(root, iter(outgoing[root]))]
        on_path.add(root)
        while stack:
            node, pending = stack[-1]
            link = next(pending, None)
            if link is None:
                stack.pop()
                on_path.discard(node)
                done.add(node)
            elif link.target in on_path:
                dropped.add(link)
                warnings.append(
                    {
                        "field": link.at,
                        "message": f"The connection from '{link.source}' back to '{link.target}' makes a loop; "
                        "Flowbuilder workflows have no loops (use for_each), so it is not imported",
                    }
                )
            elif link.target not in done:
                on_path.add(link.target)
                stack.append((link.target, iter(outgoing[link.target])))
    return [link for link in links if link not in dropped]


def topological(names: list[str], links: list[Link]) -> list[str]:
    """``names`` with every node after its predecessors (ties in export order); ``links`` must be acyclic."""
    incoming = dict.fromkeys(names, 0)
    outgoing: dict[str, list[str]] = defaultdict(list)
    for link in links:
        incoming[link.target] += 1
        outgoing[link.source].append(link.target)
    order: list[str] = []
    ready = [name for name in names if incoming[name] == 0]
    while ready:
        name = ready.pop(0)
        order.append(name)
        for target in outgoing[name]:
            incoming[target] -= 1
            if incoming[target] == 0:
                ready.append(target)
    return order + [name for name in names if name not in order]
