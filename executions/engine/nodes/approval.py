"""``approval``: wait for a person to approve or reject, then branch on the answer."""

from __future__ import annotations

from executions.engine.nodes._schema import (
    BOOLEAN,
    MAX_WAIT_SECONDS,
    TEXT,
    config_schema,
    dynamic,
    integer,
    prop,
    results,
)
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

NODE_TYPE = register(
    NodeType(
        type="approval",
        label="Approval",
        description="Asks people to approve or reject, waits for the answer, and continues on 'approved' or 'rejected'.",
        category=NodeCategory.HUMAN,
        config_schema=config_schema(
            {
                "message": prop("Message", "What the approvers are asked, e.g. Refund {{ input.amount }} EUR?", TEXT),
                "approvers": prop(
                    "Approvers",
                    "E-mail addresses or user ids of who may answer; the workflow's owner if unset.",
                    dynamic({"type": "array", "minItems": 1, "uniqueItems": True, "items": TEXT}),
                ),
                "timeout_seconds": prop(
                    "Timeout (seconds)",
                    "How long to wait for an answer (1 minute to 30 days).",
                    dynamic(integer(60, MAX_WAIT_SECONDS)),
                    default=86400,
                ),
            },
            required=("message",),
        ),
        outputs=("approved", "rejected"),
        output_schema=results(approved=BOOLEAN, by={"type": "string"}, comment={"type": "string"}),
    )
)
