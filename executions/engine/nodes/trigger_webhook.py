"""``trigger.webhook``: start a run when the workflow's secret URL receives a request."""

from __future__ import annotations

from executions.engine.nodes._schema import CREDENTIAL_REF, config_schema, integer, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType


def execute(ctx: NodeContext) -> NodeResult:
    """The trigger's output is the run's input."""
    return NodeResult(output=ctx.expression_context.get("input"))


NODE_TYPE = register(
    NodeType(
        type="trigger.webhook",
        label="Webhook Trigger",
        description="Starts the workflow when its secret webhook URL receives an HTTP request.",
        category=NodeCategory.TRIGGER,
        config_schema=config_schema(
            {
                "method": prop(
                    "HTTP method",
                    "The request method the webhook accepts.",
                    {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
                    default="POST",
                ),
                "respond": prop(
                    "Respond",
                    "'immediately': answer 202 with the execution id; 'when_done': wait for a Webhook Response "
                    "node or the end of the run.",
                    {"enum": ["immediately", "when_done"]},
                    default="immediately",
                ),
                "response_timeout_seconds": prop(
                    "Response timeout (seconds)",
                    "With 'when_done', how long the caller is kept waiting before getting 202 with the execution id.",
                    integer(1, 300),
                    default=30,
                ),
                "hmac_credential": prop(
                    "HMAC credential",
                    "If set, requests must carry a valid HMAC-SHA256 signature made with this credential's secret.",
                    CREDENTIAL_REF,
                ),
            }
        ),
        inputs=(),
        is_trigger=True,
        inline=True,
        output_schema=results(body={}, query={"type": "object"}, headers={"type": "object"}),
        execute=execute,
    )
)
