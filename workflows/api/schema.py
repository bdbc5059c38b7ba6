"""The workflow definition in the OpenAPI schema: its real shape, from the engine's own JSON Schemas.

``POST /workflows`` and the other bodies that carry a definition document the canonical form
(nodes, edges, ports, retry, on_error, settings) with a working example, instead of an opaque
``definition: {}``. The node, edge and settings schemas are the ones
``executions.engine.validation`` checks definitions with, turned into OpenAPI 3.0.
"""

from __future__ import annotations

import copy
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from executions.engine.validation import EDGE_SCHEMA, MAX_NODES, NODE_SCHEMA, SETTINGS_SCHEMA

DEFINITION = "WorkflowDefinition"
SEED_DEFINITION = "SeedDefinition"

EXAMPLE: dict[str, Any] = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "name": "Start", "config": {}},
        {
            "id": "fetch",
            "type": "http_request",
            "name": "Fetch the item",
            "config": {"method": "GET", "url": "https://api.example.com/items/{{ input.item_id }}"},
            "retry": {"max_attempts": 3, "backoff_seconds": 2},
            "timeout_seconds": 30,
        },
        {
            "id": "pricey",
            "type": "condition",
            "name": "Pricey?",
            "config": {"expression": "{{ steps.fetch.output.body.price > 100 }}"},
        },
        {
            "id": "out",
            "type": "output",
            "name": "Result",
            "config": {"value": {"item": "{{ steps.fetch.output.body }}"}},
        },
    ],
    "edges": [
        {"id": "e1", "source": "start", "target": "fetch"},
        {"id": "e2", "source": "fetch", "target": "pricey"},
        {"id": "e3", "source": "pricey", "target": "out", "source_port": "true"},
    ],
    "variables": {},
    "settings": {"timeout_seconds": 3600, "on_error": "stop"},
}


def _openapi(schema: dict[str, Any]) -> dict[str, Any]:
    """A JSON Schema (2020-12) fragment as OpenAPI 3.0 reads it: numeric exclusive bounds become flags."""
    out = copy.deepcopy(schema)
    for key, flag in (("exclusiveMinimum", "minimum"), ("exclusiveMaximum", "maximum")):
        if isinstance(out.get(key), int | float) and not isinstance(out.get(key), bool):
            out[flag], out[key] = out[key], True
    if isinstance(out.get("properties"), dict):
        out["properties"] = {name: _openapi(value) for name, value in out["properties"].items()}
    if isinstance(out.get("items"), dict):
        out["items"] = _openapi(out["items"])
    if "enum" in out and "type" not in out:
        out["type"] = "string"
    return out


def _described(schema: dict[str, Any], descriptions: dict[str, str]) -> dict[str, Any]:
    for name, text in descriptions.items():
        schema["properties"][name]["description"] = text
    return schema


COMPONENTS: dict[str, Any] = {
    "WorkflowNode": _described(
        _openapi(NODE_SCHEMA),
        {
            "id": "Unique in the definition; other nodes' expressions reach its output as `steps.<id>.output`.",
            "type": "A node type of `GET /node-types` (`trigger.manual`, `http_request`, `condition`, …).",
            "config": "The type's settings (its JSON Schema is in `GET /node-types`); strings may hold "
            "`{{ … }}` expressions.",
            "retry": "Retries of a failed attempt, with exponential backoff from `backoff_seconds`.",
            "timeout_seconds": "An attempt running longer fails (and may be retried).",
            "on_error": "When the node fails: `stop` the run (default), `continue` with the next nodes, or follow "
            "its `error` port.",
            "disabled": "Skipped, as if it were not there.",
            "position": "Where an editor draws it.",
        },
    ),
    "WorkflowEdge": _described(
        _openapi(EDGE_SCHEMA),
        {
            "source_port": "Which output of the source: `true`/`false` of a condition, a case of a switch, "
            "`approved`/`rejected`, `error`; the default (`main`) is left out.",
        },
    ),
    "WorkflowSettings": _described(
        _openapi(SETTINGS_SCHEMA),
        {
            "timeout_seconds": "The whole run's time limit.",
            "max_concurrency": "Runs of this workflow at once; more wait (`queue`) or are refused (`reject`).",
            "on_error": "The default `on_error` of the nodes.",
        },
    ),
    DEFINITION: {
        "type": "object",
        "description": "A workflow: nodes joined by edges, in the canonical form the API answers with. "
        "Exactly one trigger node; no cycles (loops are `for_each` nodes).",
        "required": ["nodes"],
        "properties": {
            "nodes": {"type": "array", "maxItems": MAX_NODES, "items": {"$ref": "#/components/schemas/WorkflowNode"}},
            "edges": {"type": "array", "items": {"$ref": "#/components/schemas/WorkflowEdge"}},
            "variables": {
                "type": "object",
                "additionalProperties": True,
                "description": "Constants the expressions read as `{{ vars.<name> }}`.",
            },
            "settings": {"$ref": "#/components/schemas/WorkflowSettings"},
        },
        "example": EXAMPLE,
    },
    SEED_DEFINITION: {
        "type": "object",
        "additionalProperties": True,
        "description": "Also accepted, and answered in the canonical form: the seed documents' React-Flow style "
        "(`nodes` with `data`, `connections`) and their step list (`steps` with `depends_on`).",
    },
}

DEFINITION_OUT = {"$ref": f"#/components/schemas/{DEFINITION}"}
DEFINITION_IN = {
    "anyOf": [DEFINITION_OUT, {"$ref": f"#/components/schemas/{SEED_DEFINITION}"}],
    "description": "The workflow definition (canonical form, or a seed format).",
    "example": EXAMPLE,
}


@extend_schema_field(DEFINITION_IN)
class DefinitionInputField(serializers.JSONField):
    """A definition as clients send it: the canonical form or a seed format."""


@extend_schema_field(DEFINITION_OUT)
class DefinitionField(serializers.JSONField):
    """A stored definition, always in the canonical form."""


def add_definition_schemas(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """drf-spectacular hook: the components the definition fields refer to."""
    result.setdefault("components", {}).setdefault("schemas", {}).update(copy.deepcopy(COMPONENTS))
    return result
