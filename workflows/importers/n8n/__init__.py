"""Import of n8n workflow exports (what n8n's "Download" gives).

Package map:

- ``base.py``: what a converter sees (``Source``, with parameter helpers) and returns (``Converted``).
- ``graph.py``: reading the export's nodes and name-keyed connections, checked; loops broken.
- ``builder.py``: converting nodes in graph order, keeping one trigger, edges with ports.
- ``converters/``: the table of per-type converters (n8n parameters → our config), one module
  per family: ``triggers``, ``http``, ``control``, ``data``, ``integrations``.
- ``conditions.py``: IF / Filter / Switch conditions → Jinja expressions.
- ``expressions.py``: n8n ``={{ $json.x }}`` expressions → Jinja templates.
- ``schedule.py``: Schedule Trigger / Cron / Interval → a cron expression.

Node ids are the slugs of the n8n names; node types we have no equivalent of
become pass-through transforms; credentials are never imported. Everything
changed on the way is a warning pointing into the export (``nodes[3]``,
``nodes[3].parameters.url``, ``connections["IF"].main[1][0]``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.importers.n8n.builder import Builder
from workflows.importers.result import Imported

N8N_TYPE_PREFIXES = ("n8n-nodes-base.", "@n8n/")


def is_n8n_workflow(payload: Mapping[str, Any]) -> bool:
    """n8n's shape: ``nodes`` with n8n types, or ``connections`` keyed by node name (ours is a list)."""
    nodes = payload.get("nodes")
    if not isinstance(nodes, list):
        return False
    if isinstance(payload.get("connections"), Mapping):
        return True
    return any(
        isinstance(node, Mapping) and isinstance(node.get("type"), str) and node["type"].startswith(N8N_TYPE_PREFIXES)
        for node in nodes
    )


def from_n8n(payload: Mapping[str, Any]) -> Imported | None:
    """The importer for n8n exports; None for anything else. Raises ValidationFailed for a broken export."""
    if not is_n8n_workflow(payload):
        return None
    builder = Builder(payload)
    definition = builder.build()
    name = payload.get("name")
    description = payload.get("description")
    return Imported(
        definition=definition,
        name=name[:200] if isinstance(name, str) and name.strip() else "Imported n8n workflow",
        description=description if isinstance(description, str) else "",
        tags=_tags(payload.get("tags")),
        warnings=builder.warnings,
        source_format="n8n",
    )


def _tags(tags: Any) -> list[str]:
    """Tags are names, or ``{"id", "name"}`` objects in exports."""
    if not isinstance(tags, list):
        return []
    names = [tag.get("name") if isinstance(tag, Mapping) else tag for tag in tags]
    return [name for name in names if isinstance(name, str) and name.strip()]
