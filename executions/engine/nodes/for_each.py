"""``for_each``: run a workflow once per item of a list and collect the outputs."""

from __future__ import annotations

from executions.engine.nodes._schema import WORKFLOW_REF, config_schema, dynamic, integer, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

MAX_ITEMS = 10_000

NODE_TYPE = register(
    NodeType(
        type="for_each",
        label="For Each",
        description="Runs a workflow once per item of a list, a few at a time, and outputs the list of their outputs.",
        category=NodeCategory.CONTROL,
        config_schema=config_schema(
            {
                "items": prop(
                    "Items",
                    f"The list to loop over, usually an expression such as {{{{ steps.fetch.output.body.items }}}}; "
                    f"at most {MAX_ITEMS:,} items (checked at run time for expressions).",
                    dynamic({"type": "array", "maxItems": MAX_ITEMS}),
                ),
                "workflow_id": prop(
                    "Workflow", "The workflow run for each item (its id, or an expression).", WORKFLOW_REF
                ),
                "input": prop(
                    "Input",
                    "The input of each child run: any JSON, templated per item with `item` and `index`.",
                    default="{{ item }}",
                ),
                "parallelism": prop(
                    "Parallelism",
                    "How many child runs at most run at the same time.",
                    dynamic(integer(1, 50)),
                    default=5,
                ),
            },
            required=("items", "workflow_id"),
        ),
        deferred_fields=frozenset({"input"}),
        output_schema={"type": "array"},
    )
)
