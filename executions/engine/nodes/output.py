"""``output``: set the execution's output data."""

from __future__ import annotations

from executions.engine.nodes._schema import config_schema, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

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
    )
)
