"""Importers: recognise a payload's format and turn it into workflow fields.

Each importer takes the request payload and returns an :class:`Imported`, or
None when the payload is not its format; the first that recognises it wins.
A new format (n8n, …) is one more module appended to ``IMPORTERS``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from flowbuilder.api.errors import ValidationFailed
from workflows.importers.n8n import from_n8n
from workflows.importers.result import Imported

EXPORT_FORMAT = "flowbuilder.workflow"
EXPORT_FORMAT_VERSION = 1


Importer = Callable[[Mapping[str, Any]], Imported | None]


def from_flowbuilder_export(payload: Mapping[str, Any]) -> Imported | None:
    if payload.get("format") != EXPORT_FORMAT:
        return None
    version = payload.get("format_version")
    if version != EXPORT_FORMAT_VERSION:
        raise ValidationFailed(f"Unsupported export format version {version!r}", field="format_version")
    return Imported(
        definition=payload.get("definition"),
        name=payload.get("name") or "Imported workflow",
        description=payload.get("description") or "",
        category=payload.get("category") or "",
        tags=list(payload.get("tags") or []),
        source_format=EXPORT_FORMAT,
    )


def from_seed_workflow(payload: Mapping[str, Any]) -> Imported | None:
    """The seed documents' workflow objects: ``{name, workflow_data | definition, category, tags}``."""
    definition = payload.get("workflow_data", payload.get("definition"))
    if not isinstance(definition, Mapping) or "name" not in payload:
        return None
    return Imported(
        definition=definition,
        name=payload.get("name") or "Imported workflow",
        description=payload.get("description") or "",
        category=payload.get("category") or "",
        tags=list(payload.get("tags") or []),
        source_format="workflow",
    )


def from_bare_definition(payload: Mapping[str, Any]) -> Imported | None:
    if "nodes" not in payload and "steps" not in payload:
        return None
    return Imported(definition=payload, source_format="definition")


IMPORTERS: list[Importer] = [from_flowbuilder_export, from_seed_workflow, from_n8n, from_bare_definition]


def import_payload(payload: Any) -> Imported:
    """Raises ValidationFailed when no importer recognises ``payload``."""
    if isinstance(payload, Mapping):
        for importer in IMPORTERS:
            imported = importer(payload)
            if imported is not None:
                return imported
    raise ValidationFailed(
        "Unrecognised workflow format: expected a Flowbuilder export, a workflow object or a definition",
        field="data",
    )
