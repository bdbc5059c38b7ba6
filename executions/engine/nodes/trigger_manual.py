"""``trigger.manual``: start a run from the API or the editor, with the caller's input.

With ``file`` set, the run takes a file: its input carries a file reference
``{"file": {"id", "name", "content_type", "category", "size", "download_url"}}``
(:data:`FILE_REFERENCE_SCHEMA`), as ``POST /files/{id}/process`` sends it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from executions.engine.nodes._schema import BOOLEAN, Problem, config_schema, json_schema_problems, prop, strict_object
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType

FILE_CATEGORIES = ("document", "image", "audio", "video", "data", "other")
FILE_REFERENCE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["id", "name", "content_type", "size", "download_url"],
    "properties": {
        "id": {"type": "string", "format": "uuid"},
        "name": {"type": "string"},
        "content_type": {"type": "string"},
        "category": {"enum": list(FILE_CATEGORIES)},
        "size": {"type": "integer", "minimum": 0},
        "download_url": {"type": "string"},
    },
}
_FILE_REFERENCE = Draft202012Validator(FILE_REFERENCE_SCHEMA)


def check(config: Mapping[str, Any]) -> list[Problem]:
    return json_schema_problems(config.get("input_schema"), "input_schema")


def file_problem(config: Mapping[str, Any], data: Any) -> str | None:
    """Why ``data`` lacks the file this trigger takes (``config.file``), or None."""
    wanted = config.get("file")
    if not wanted:
        return None
    reference = data.get("file") if isinstance(data, dict) else None
    if reference is None:
        return (
            "input.file: this workflow takes a file; run it with POST /files/{id}/process"
            if wanted.get("required", True)
            else None
        )
    error = next(iter(_FILE_REFERENCE.iter_errors(reference)), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        return f"input.file{where}: {error.message}"
    categories = wanted.get("categories")
    if categories and reference.get("category") not in categories:
        return f"input.file: this workflow takes {' or '.join(categories)} files, not {reference.get('category')}"
    return None


def execute(ctx: NodeContext) -> NodeResult:
    """Checks the input against ``input_schema`` and ``file`` (the API checked them too) and passes it on."""
    data = ctx.expression_context.get("input")
    schema = ctx.config.get("input_schema")
    if schema:
        error = next(iter(Draft202012Validator(schema).iter_errors(data)), None)
        if error is not None:
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            raise NodeError(f"input{where}: {error.message}", retryable=False)
    problem = file_problem(ctx.config, data)
    if problem:
        raise NodeError(problem, retryable=False)
    return NodeResult(output=data)


NODE_TYPE = register(
    NodeType(
        type="trigger.manual",
        label="Manual Trigger",
        description="Starts the workflow on demand (API call, editor, file upload) with the given input data.",
        category=NodeCategory.TRIGGER,
        config_schema=config_schema(
            {
                "input_schema": prop(
                    "Input schema",
                    "A JSON Schema (draft 2020-12) the input data must satisfy; any input is accepted if unset.",
                    {"type": "object"},
                    examples=[{"type": "object", "properties": {"email": {"type": "string"}}, "required": ["email"]}],
                ),
                "file": prop(
                    "File input",
                    "The run takes an uploaded file: its input carries {file: {id, name, content_type, category, "
                    "size, download_url}}. Upload with POST /files/upload, run with POST /files/{id}/process.",
                    strict_object(
                        {
                            "required": prop("Required", "Refuse runs without a file.", BOOLEAN, default=True),
                            "categories": prop(
                                "Categories",
                                "The kinds of file it takes; any if unset.",
                                {
                                    "type": "array",
                                    "minItems": 1,
                                    "uniqueItems": True,
                                    "items": {"enum": list(FILE_CATEGORIES)},
                                },
                            ),
                        }
                    ),
                    examples=[{"required": True, "categories": ["image"]}],
                ),
            }
        ),
        inputs=(),
        is_trigger=True,
        inline=True,
        check=check,
        execute=execute,
    )
)
