"""``trigger.manual``: start a run from the API or the editor, with the caller's input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from executions.engine.nodes._schema import Problem, config_schema, json_schema_problems, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType


def check(config: Mapping[str, Any]) -> list[Problem]:
    return json_schema_problems(config.get("input_schema"), "input_schema")


def execute(ctx: NodeContext) -> NodeResult:
    """Checks the input against ``input_schema`` (the API checked it too) and passes it on."""
    data = ctx.expression_context.get("input")
    schema = ctx.config.get("input_schema")
    if schema:
        error = next(iter(Draft202012Validator(schema).iter_errors(data)), None)
        if error is not None:
            where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
            raise NodeError(f"input{where}: {error.message}", retryable=False)
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
            }
        ),
        inputs=(),
        is_trigger=True,
        inline=True,
        check=check,
        execute=execute,
    )
)
