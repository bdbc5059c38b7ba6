"""``trigger.manual``: start a run from the API or the editor, with the caller's input."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.engine.nodes._schema import Problem, config_schema, json_schema_problems, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType


def check(config: Mapping[str, Any]) -> list[Problem]:
    return json_schema_problems(config.get("input_schema"), "input_schema")


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
    )
)
