"""``transform``: build a new value from earlier outputs with templates."""

from __future__ import annotations

from executions.engine.nodes._schema import config_schema, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType


def execute(ctx: NodeContext) -> NodeResult:
    return NodeResult(output=ctx.config.get("value"))


NODE_TYPE = register(
    NodeType(
        type="transform",
        label="Transform",
        description="Outputs a JSON value built with templates, e.g. to reshape or pick fields of earlier outputs.",
        category=NodeCategory.DATA,
        config_schema=config_schema(
            {
                "value": prop(
                    "Value",
                    "Any JSON value; strings in it are templates, and a whole-string expression keeps its type.",
                    examples=[{"name": "{{ input.first }} {{ input.last }}", "total": "{{ steps.sum.output }}"}],
                ),
            },
            required=("value",),
        ),
        inline=True,
        execute=execute,
    )
)
