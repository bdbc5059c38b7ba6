"""``webhook_response``: answer the request that a ``trigger.webhook`` with ``respond: when_done`` holds."""

from __future__ import annotations

from executions.engine.nodes._schema import STRING_MAP, config_schema, dynamic, integer, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType


def execute(ctx: NodeContext) -> NodeResult:
    """The response for a caller waiting on a ``respond: when_done`` webhook; the trigger side reads it."""
    return NodeResult(
        output={
            "status": ctx.config.get("status", 200),
            "headers": ctx.config.get("headers", {}),
            "body": ctx.config.get("body"),
        }
    )


NODE_TYPE = register(
    NodeType(
        type="webhook_response",
        label="Webhook Response",
        description="Answers the waiting webhook caller with a status, headers and body; the run goes on.",
        category=NodeCategory.INTEGRATION,
        config_schema=config_schema(
            {
                "status": prop("Status", "The HTTP status code.", dynamic(integer(100, 599)), default=200),
                "headers": prop("Headers", "Response headers, name to value.", dynamic(STRING_MAP), default={}),
                "body": prop("Body", "The response body: any JSON value, or a string sent as text."),
            }
        ),
        inline=True,
        execute=execute,
    )
)
