"""A workflow definition drawn as a graph: nodes laid out left to right, edges labelled with their ports.

The layout is grandalf's Sugiyama layering (the algorithm of Graphviz's ``dot``), computed here
and drawn as inline SVG by ``console/graph.html``: no JavaScript, no CDN, works offline. Each
node is a ``<g>`` with ``data-node-id`` and ``data-status`` (a step status on a run's page, empty
elsewhere), stable hooks for the run page's live updates, for tests and for people's scripts.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from grandalf.graphs import Edge, Graph, Vertex
from grandalf.layouts import SugiyamaLayout

from executions.engine.types import DEFAULT_PORT

NODE_WIDTH = 176
NODE_HEIGHT = 48
LAYER_GAP = 64  # between columns
ROW_GAP = 22  # between nodes of a column
COMPONENT_GAP = 40  # between unconnected parts, stacked
MARGIN = 16


@dataclass(frozen=True)
class Box:
    id: str
    name: str
    type: str
    x: float  # top-left corner
    y: float
    status: str = ""
    change: str = ""  # on a diff: "added", "removed", "changed"

    @property
    def label(self) -> str:
        return self.name if len(self.name) <= 22 else self.name[:21] + "…"

    @property
    def type_label(self) -> str:
        return self.type if len(self.type) <= 26 else self.type[:25] + "…"


@dataclass(frozen=True)
class Line:
    source: str
    target: str
    port: str  # shown when it is not the default one: true/false, a switch case, error
    path: str  # SVG path data
    label_x: float
    label_y: float


@dataclass(frozen=True)
class Drawing:
    width: float
    height: float
    boxes: list[Box]
    lines: list[Line]
    node_width: int = NODE_WIDTH
    node_height: int = NODE_HEIGHT


class _View:
    """What grandalf needs of a vertex's drawing: its size (here turned, for a left-to-right layout)."""

    def __init__(self) -> None:
        self.w, self.h = NODE_HEIGHT, NODE_WIDTH
        self.xy = (0.0, 0.0)


def layout(
    definition: Mapping[str, Any] | None,
    *,
    statuses: Mapping[str, str] | None = None,
    changes: Mapping[str, str] | None = None,
) -> Drawing:
    """The drawing of a canonical definition (``nodes``, ``edges``); unknown edge ends are left out."""
    nodes = [n for n in (definition or {}).get("nodes") or [] if isinstance(n, Mapping) and n.get("id")]
    ids = {str(n["id"]) for n in nodes}
    edges = [
        e
        for e in (definition or {}).get("edges") or []
        if isinstance(e, Mapping) and str(e.get("source")) in ids and str(e.get("target")) in ids
    ]
    vertices = {str(n["id"]): Vertex(str(n["id"])) for n in nodes}
    for vertex in vertices.values():
        vertex.view = _View()
    links = [Edge(vertices[str(e["source"])], vertices[str(e["target"])]) for e in edges if e["source"] != e["target"]]
    positions: dict[str, tuple[float, float]] = {}  # top-left corners, left to right
    offset_y = float(MARGIN)
    width = height = 0.0
    for component in Graph(list(vertices.values()), links).C:
        sugiyama = SugiyamaLayout(component)
        sugiyama.xspace, sugiyama.yspace = ROW_GAP, LAYER_GAP
        sugiyama.init_all()
        sugiyama.draw()
        # grandalf lays layers out top to bottom: its y is our column, its x our row.
        placed = {v.data: (v.view.xy[1] - NODE_WIDTH / 2, v.view.xy[0] - NODE_HEIGHT / 2) for v in component.sV}
        min_x = min(x for x, _ in placed.values())
        min_y = min(y for _, y in placed.values())
        for node_id, (x, y) in placed.items():
            positions[node_id] = (x - min_x + MARGIN, y - min_y + offset_y)
        bottom = max(positions[node_id][1] for node_id in placed) + NODE_HEIGHT
        offset_y = bottom + COMPONENT_GAP
        width = max(width, max(positions[node_id][0] for node_id in placed) + NODE_WIDTH + MARGIN)
        height = bottom + MARGIN
    statuses = statuses or {}
    changes = changes or {}
    boxes = [
        Box(
            id=str(n["id"]),
            name=str(n.get("name") or n["id"]),
            type=str(n.get("type") or "?"),
            x=round(positions[str(n["id"])][0], 1),
            y=round(positions[str(n["id"])][1], 1),
            status=statuses.get(str(n["id"]), ""),
            change=changes.get(str(n["id"]), ""),
        )
        for n in nodes
    ]
    return Drawing(
        width=round(width, 1), height=round(height, 1), boxes=boxes, lines=[_line(e, positions) for e in edges]
    )


def _line(edge: Mapping[str, Any], positions: Mapping[str, tuple[float, float]]) -> Line:
    sx, sy = positions[str(edge["source"])]
    tx, ty = positions[str(edge["target"])]
    x1, y1 = sx + NODE_WIDTH, sy + NODE_HEIGHT / 2
    x2, y2 = tx, ty + NODE_HEIGHT / 2
    if x2 > x1:  # forward: a smooth S from the source's right side to the target's left side
        bend = (x2 - x1) / 2
        path = f"M{x1:.1f},{y1:.1f} C{x1 + bend:.1f},{y1:.1f} {x2 - bend:.1f},{y2:.1f} {x2:.1f},{y2:.1f}"
    else:  # backwards (a loop) or onto itself: around, below the nodes
        low = max(sy, ty) + NODE_HEIGHT + 24
        path = f"M{x1:.1f},{y1:.1f} C{x1 + 60:.1f},{low:.1f} {x2 - 60:.1f},{low:.1f} {x2:.1f},{y2:.1f}"
    port = str(edge.get("source_port") or DEFAULT_PORT)
    return Line(
        source=str(edge["source"]),
        target=str(edge["target"]),
        port="" if port == DEFAULT_PORT else port,
        path=path,
        label_x=round((x1 + x2) / 2, 1),
        label_y=round((y1 + y2) / 2 - 5, 1),
    )


def render(
    definition: Mapping[str, Any] | None,
    *,
    statuses: Mapping[str, str] | None = None,
    changes: Mapping[str, str] | None = None,
    graph_id: str = "",
) -> SafeString:
    """The graph as HTML (an inline SVG in a frame), for a read-only field or a template (escaped there)."""

    drawing = layout(definition, statuses=statuses, changes=changes)
    svg = render_to_string("console/graph.html", {"drawing": drawing, "graph_id": graph_id})
    return render_to_string(
        "console/graph_frame.html", {"svg": svg, "changes": bool(changes), "empty": not drawing.boxes}
    )


def node_changes(old: Mapping[str, Any] | None, new: Mapping[str, Any] | None) -> tuple[dict[str, str], dict[str, str]]:
    """What changed between two definitions, per node: (on the old graph, on the new graph)."""

    def by_id(definition: Mapping[str, Any] | None) -> dict[str, Any]:
        return {str(n.get("id")): n for n in (definition or {}).get("nodes") or [] if isinstance(n, Mapping)}

    before, after = by_id(old), by_id(new)
    on_old = dict.fromkeys(before.keys() - after.keys(), "removed")
    on_new = dict.fromkeys(after.keys() - before.keys(), "added")
    for node_id in before.keys() & after.keys():
        if _essentials(before[node_id]) != _essentials(after[node_id]):
            on_old[node_id] = on_new[node_id] = "changed"
    return on_old, on_new


def _essentials(node: Mapping[str, Any]) -> dict[str, Any]:
    """A node without its canvas position: moving a node is not a change of the workflow."""
    return {k: v for k, v in node.items() if k not in ("position", "ui")}
