"""``output``: set the execution's output data."""

from __future__ import annotations

from executions.engine.nodes._schema import config_schema, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType


def execute(ctx: NodeContext) -> NodeResult:
    """Its value, or what reached it (one predecessor's output, or all of them by id)."""
    if "value" in ctx.config:
        return NodeResult(output=ctx.config["value"])
    if len(ctx.inputs) == 1:
        return NodeResult(output=next(iter(ctx.inputs.values())))
    return NodeResult(output=dict(ctx.inputs))


NODE_TYPE = register(
    NodeType(
        type="output",
        label="Output",
        description="Sets the execution's output data; without one, the output holds the leaf nodes' outputs by id.",
        category=NodeCategory.DATA,
        config_schema=config_schema(
            {
                "value": prop(
                    "Value",
                    "Any JSON value, templated, e.g. {{ steps.summary.output }}.",
                    examples=[{"id": "{{ steps.create.output.body.id }}"}],
                ),
            }
        ),
        inline=True,
        sets_output=True,
        execute=execute,
    )
)
