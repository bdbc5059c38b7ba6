"""``condition``: branch on an expression; the branch not taken is skipped."""

from __future__ import annotations

from executions.engine.expressions import ExpressionError, evaluate
from executions.engine.nodes._schema import BOOLEAN, TEXT, config_schema, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType


def execute(ctx: NodeContext) -> NodeResult:
    """Evaluates the (unrendered) expression natively and takes the matching port."""
    try:
        value = evaluate(ctx.config["expression"], ctx.expression_context)
    except ExpressionError as exc:
        raise NodeError(str(exc), retryable=False) from None
    result = bool(value)
    return NodeResult(output={"result": result}, ports=("true" if result else "false",))


NODE_TYPE = register(
    NodeType(
        type="condition",
        label="Condition",
        description="Continues on the 'true' or the 'false' port depending on an expression; the other branch is skipped.",
        category=NodeCategory.CONTROL,
        config_schema=config_schema(
            {
                "expression": prop(
                    "Expression",
                    "A single {{ expression }} or a bare expression (x > 1); its truthiness picks the branch.",
                    TEXT,
                    examples=["{{ steps.fetch.output.body.price > 100 }}"],
                ),
            },
            required=("expression",),
        ),
        outputs=("true", "false"),
        inline=True,
        output_schema=results(result=BOOLEAN),
        deferred_fields=frozenset({"expression"}),
        expression_fields=frozenset({"expression"}),
        execute=execute,
    )
)
