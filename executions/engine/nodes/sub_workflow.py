"""``sub_workflow``: run another workflow as a child execution."""

from __future__ import annotations

from executions.engine.nodes._schema import WORKFLOW_REF, config_schema, dynamic, prop
from executions.engine.registry import register
from executions.engine.types import ChildRun, NodeCategory, NodeContext, NodeError, NodeResult, NodeType, Wait


def execute(ctx: NodeContext) -> NodeResult:
    child = ChildRun(workflow_id=str(ctx.config["workflow_id"]), input=ctx.config.get("input", {}))
    if ctx.config.get("wait", True):
        return NodeResult(wait=Wait(children=(child,)))
    return NodeResult(output={"started": True, "workflow_id": child.workflow_id}, detached_children=(child,))


def resume(ctx: NodeContext) -> NodeResult:
    child = (ctx.resume or {}).get("child") or {}
    if child.get("status") != "completed":
        message = (child.get("error") or {}).get("message", "")
        raise NodeError(
            f"The sub-workflow run {child.get('execution_id')} {child.get('status')}: {message}", retryable=False
        )
    return NodeResult(output=child.get("output"))


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
        execute=execute,
        resume=resume,
    )
)
