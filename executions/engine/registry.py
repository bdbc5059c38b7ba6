"""The registry of node types: one module per type under ``nodes/``, each calling :func:`register`.

``registry.get("http_request")`` answers the declaration; ``registry.all_types()``
the catalog. Aliases from the seed documents (``http`` → ``http_request``)
resolve through :func:`canonical_type`. Tests may register their own types
(a flaky or slow step) with :func:`register` and remove them with
:func:`unregister`.
"""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

from executions.engine.types import NodeType

ALIASES: dict[str, str] = {
    "start": "trigger.manual",
    "input": "trigger.manual",
    "file_input": "trigger.manual",
    "manual": "trigger.manual",
    "webhook": "trigger.webhook",
    "schedule": "trigger.schedule",
    "http": "http_request",
    "ai_model": "llm",
    "ai_vision": "llm",
}

_types: dict[str, NodeType] = {}
_loaded = False


def register(node_type: NodeType) -> NodeType:
    if node_type.type in _types and _types[node_type.type] is not node_type:
        raise ValueError(f"Node type '{node_type.type}' is registered twice")
    _types[node_type.type] = node_type
    return node_type


def unregister(type_name: str) -> None:
    _types.pop(type_name, None)


def _load() -> None:
    global _loaded
    if _loaded:
        return
    from executions.engine import nodes

    for module in pkgutil.iter_modules(nodes.__path__):
        importlib.import_module(f"{nodes.__name__}.{module.name}")
    from django.conf import settings

    for name in getattr(settings, "FLOWBUILDER_EXTRA_NODE_MODULES", []):
        importlib.import_module(name)
    _loaded = True


def canonical_type(name: str) -> str:
    return ALIASES.get(name, name)


def get(type_name: str) -> NodeType | None:
    """The declaration of ``type_name`` (aliases resolved), or None if unknown."""
    _load()
    return _types.get(canonical_type(type_name))


def all_types() -> list[NodeType]:
    _load()
    return sorted(_types.values(), key=lambda t: (t.category != "trigger", t.category, t.type))


def catalog(*, category: str | None = None) -> list[dict[str, Any]]:
    """``GET /node-types``: every type (of ``category``) as the editor builds its palette from it."""
    aliases: dict[str, list[str]] = {}
    for alias, target in ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    return [
        {
            "type": t.type,
            "label": t.label,
            "description": t.description,
            "category": t.category,
            "inputs": list(t.inputs),
            "outputs": list(t.outputs),
            "dynamic_outputs": t.dynamic_outputs is not None,
            "config_schema": t.config_schema,
            "credential_types": list(t.credential_types),
            "credential_required": t.credential_required,
            "is_trigger": t.is_trigger,
            "side_effects": t.side_effects,
            "aliases": sorted(aliases.get(t.type, [])),
        }
        for t in all_types()
        if category is None or t.category == category
    ]
