"""``slack``: post a message to Slack through an incoming-webhook credential."""

from __future__ import annotations

from executions.engine.nodes._schema import BOOLEAN, CREDENTIAL_REF, TEXT, config_schema, dynamic, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

NODE_TYPE = register(
    NodeType(
        type="slack",
        label="Slack Message",
        description="Posts a message to a Slack channel through an incoming webhook.",
        category=NodeCategory.INTEGRATION,
        config_schema=config_schema(
            {
                "credential": prop("Slack webhook", "The incoming-webhook credential of the channel.", CREDENTIAL_REF),
                "text": prop(
                    "Text", "The message, in Slack's mrkdwn; the notification text when blocks are given.", TEXT
                ),
                "blocks": prop(
                    "Blocks",
                    "Block Kit blocks for a rich layout.",
                    dynamic({"type": "array", "items": {"type": "object"}}),
                ),
            },
            required=("credential", "text"),
        ),
        credential_types=("slack_webhook",),
        credential_required=True,
        side_effects=True,
        output_schema=results(ok=BOOLEAN),
    )
)
