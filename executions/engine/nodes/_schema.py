"""Schema fragments and check helpers shared by the node type modules.

Config schemas are JSON Schema draft 2020-12 objects that a UI can build a form
from: every property has a ``title`` and a ``description``. Any config string
may be a template; a non-string field that may be set dynamically accepts a
whole-string :data:`EXPRESSION` through :func:`dynamic`. Bounds on a templated
value are enforced when it is rendered, at run time.

Checks (``NodeType.check``) answer ``(path, message)`` pairs; build the path
with :func:`path_of` (``"cases[2].port"``), ``""`` meaning the config itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import SchemaError

from executions.engine.types import JSONSchema

Problem = tuple[str, str]

DRAFT = "https://json-schema.org/draft/2020-12/schema"
UUID_PATTERN = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
PORT_PATTERN = "^[A-Za-z_][A-Za-z0-9_-]{0,63}$"
MAX_WAIT_SECONDS = 2_592_000  # 30 days: delays and approvals

EXPRESSION: JSONSchema = {
    "title": "Expression",
    "type": "string",
    "pattern": "^\\s*\\{\\{.*\\}\\}\\s*$",
    "description": "A whole-string expression, e.g. {{ input.count }}",
}
CREDENTIAL_REF: JSONSchema = {"anyOf": [{"type": "string", "format": "uuid", "pattern": UUID_PATTERN}, EXPRESSION]}
WORKFLOW_REF: JSONSchema = {"anyOf": [{"type": "string", "format": "uuid", "pattern": UUID_PATTERN}, EXPRESSION]}
# A file a step reads (executions/engine/files.py): an uploaded file's id, an expression giving one
# ("{{ input.file.id }}"), or a whole file reference ("{{ input.file }}" renders to {id, name, …}).
FILE_REF: JSONSchema = {
    "anyOf": [
        {"type": "string", "format": "uuid", "pattern": UUID_PATTERN},
        EXPRESSION,
        {
            "title": "File reference",
            "description": "A file reference such as the one a file run's input carries: {id, name, …}.",
            "type": "object",
            "required": ["id"],
            "properties": {
                "id": {
                    "title": "File id",
                    "description": "The uploaded file's id.",
                    "type": "string",
                    "format": "uuid",
                    "pattern": UUID_PATTERN,
                }
            },
        },
    ]
}
STRING_MAP: JSONSchema = {"type": "object", "additionalProperties": {"type": "string"}}
TEXT: JSONSchema = {"type": "string", "minLength": 1}
BOOLEAN: JSONSchema = {"type": "boolean"}


def strict_object(properties: dict[str, JSONSchema], required: tuple[str, ...] = ()) -> JSONSchema:
    """An object with exactly ``properties`` (no others allowed), ``required`` among them."""
    schema: JSONSchema = {"type": "object", "properties": properties, "additionalProperties": False}
    if required:
        schema["required"] = list(required)
    return schema


def config_schema(properties: dict[str, JSONSchema], required: tuple[str, ...] = ()) -> JSONSchema:
    """A node's config schema: a strict object, marked as draft 2020-12."""
    return {"$schema": DRAFT, **strict_object(properties, required)}


def prop(title: str, description: str, schema: JSONSchema | None = None, **keywords: Any) -> JSONSchema:
    """A property: ``schema`` (any JSON value if None) with the title and description a form shows.

    ``keywords`` add annotations such as ``default`` or ``examples``.
    """
    return {**(schema or {}), "title": title, "description": description, **keywords}


def integer(minimum: int, maximum: int) -> JSONSchema:
    return {"type": "integer", "minimum": minimum, "maximum": maximum}


def number(minimum: float, maximum: float) -> JSONSchema:
    return {"type": "number", "minimum": minimum, "maximum": maximum}


def enum(*values: str) -> JSONSchema:
    return {"enum": list(values)}


def results(**properties: JSONSchema) -> JSONSchema:
    """An ``output_schema``: an object with these properties, for the editor's autocompletion."""
    return {"type": "object", "properties": properties}


def dynamic(schema: JSONSchema) -> JSONSchema:
    """``schema`` or a whole-string expression; the real type comes first so errors name it."""
    return {"anyOf": [schema, EXPRESSION]}


def path_of(*parts: str | int) -> str:
    """``("cases", 2, "port")`` → ``"cases[2].port"``: the path a check reports a problem at."""
    path = ""
    for part in parts:
        if isinstance(part, int):
            path += f"[{part}]"
        else:
            path += f".{part}" if path else part
    return path


def exactly_one_of(config: Mapping[str, Any], first: str, second: str) -> list[Problem]:
    """A problem unless exactly one of the keys ``first`` and ``second`` is set."""
    has_first, has_second = first in config, second in config
    if has_first and has_second:
        return [(second, f"Set either '{first}' or '{second}', not both")]
    if not has_first and not has_second:
        return [("", f"Set either '{first}' or '{second}'")]
    return []


def json_schema_problems(schema: Any, *path: str | int) -> list[Problem]:
    """What makes ``schema`` an invalid JSON Schema (draft 2020-12), reported under ``path``.

    Answers the first problem ``check_schema`` finds; a non-object (left to
    the config schema) answers nothing.
    """
    if not isinstance(schema, dict):
        return []
    try:
        Draft202012Validator.check_schema(schema)
    except SchemaError as error:
        return [(path_of(*path, *error.absolute_path), f"Not a valid JSON Schema: {error.message}")]
    return []
