"""``for_each``: run a workflow once per item of a list and collect the outputs."""

from __future__ import annotations

from typing import Any

from executions.engine.expressions import ExpressionError, render
from executions.engine.nodes._schema import WORKFLOW_REF, config_schema, dynamic, integer, prop
from executions.engine.registry import register
from executions.engine.types import ChildRun, NodeCategory, NodeContext, NodeError, NodeResult, NodeType, Wait

MAX_ITEMS = 10_000


def _child(ctx: NodeContext, items: list[Any], index: int) -> ChildRun:
    scope = {**ctx.expression_context, "item": items[index], "index": index}
    try:
        child_input = render(ctx.config.get("input", "{{ item }}"), scope, path=f"config.input (item {index})")
    except ExpressionError as exc:
        raise NodeError(str(exc), retryable=False) from None
    return ChildRun(workflow_id=str(ctx.config["workflow_id"]), input=child_input, index=index)


def _items(ctx: NodeContext) -> list[Any]:
    items = ctx.config.get("items")
    if not isinstance(items, list):
        raise NodeError(f"config.items must be a list, got {type(items).__name__}", retryable=False)
    if len(items) > MAX_ITEMS:
        raise NodeError(f"config.items has {len(items):,} items; the limit is {MAX_ITEMS:,}", retryable=False)
    return items


def execute(ctx: NodeContext) -> NodeResult:
    """Starts the first ``parallelism`` children; each finished child starts the next one."""
    items = _items(ctx)
    if not items:
        return NodeResult(output=[])
    first = min(int(ctx.config.get("parallelism", 5)), len(items))
    state = {"total": len(items), "started": first, "finished": 0}
    return NodeResult(wait=Wait(state=state, children=tuple(_child(ctx, items, i) for i in range(first))))


def resume(ctx: NodeContext) -> NodeResult:
    """A child finished: start the next item, or, after the last, output the results in item order."""
    state = dict(ctx.state)
    state["finished"] += 1
    if state["started"] < state["total"]:
        items = _items(ctx)  # rendered again from the same expression context
        index = state["started"]
        state["started"] += 1
        return NodeResult(wait=Wait(state=state, children=(_child(ctx, items, index),)))
    if state["finished"] < state["total"]:
        return NodeResult(wait=Wait(state=state))
    results = sorted(ctx.child_results() if ctx.child_results else [], key=lambda r: r["index"])
    failed = [r for r in results if r["status"] != "completed"]
    if failed:
        indexes = ", ".join(str(r["index"]) for r in failed[:20])
        raise NodeError(
            f"{len(failed)} of {state['total']} items failed (items {indexes})",
            retryable=False,
            data={"failed": [{"index": r["index"], "error": r["error"]} for r in failed[:100]]},
        )
    return NodeResult(output=[r["output"] for r in results])


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
        execute=execute,
        resume=resume,
    )
)
