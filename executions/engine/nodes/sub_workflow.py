"""``sub_workflow``: run another workflow as a child execution."""

from __future__ import annotations

from executions.engine.nodes._schema import WORKFLOW_REF, config_schema, dynamic, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

NODE_TYPE = register(
    NodeType(
        type="sub_workflow",
        label="Sub-workflow",
        description="Runs another workflow with the given input and outputs the child execution's output.",
        category=NodeCategory.CONTROL,
        config_schema=config_schema(
            {
                "workflow_id": prop("Workflow", "The workflow to run (its id, or an expression).", WORKFLOW_REF),
                "input": prop("Input", "The child run's input data: any JSON, templated.", default={}),
                "wait": prop(
                    "Wait for the result",
                    "Wait for the child to finish and output its output; otherwise continue at once with its execution id.",
                    dynamic({"type": "boolean"}),
                    default=True,
                ),
            },
            required=("workflow_id",),
        ),
    )
)
