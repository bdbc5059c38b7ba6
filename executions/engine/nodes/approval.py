"""``approval``: wait for a person to approve or reject, then branch on the answer."""

from __future__ import annotations

from datetime import timedelta

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
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType, Wait
from flowbuilder import clock


def execute(ctx: NodeContext) -> NodeResult:
    """Waits for a decision through the approve/reject endpoints, or until the timeout rejects it."""
    if ctx.dry_run:
        decision = {"approved": True, "by": None, "comment": "Approved automatically in a dry run", "simulated": True}
        return NodeResult(output=decision, ports=("approved",))
    timeout = int(ctx.config.get("timeout_seconds", 86400))
    state = {
        "message": ctx.config["message"],
        "approvers": ctx.config.get("approvers") or [],
        "timeout_seconds": timeout,
    }
    ctx.log("info", f"Waiting for approval: {ctx.config['message']}")
    return NodeResult(wait=Wait(wake_at=clock.now() + timedelta(seconds=timeout), state=state))


def resume(ctx: NodeContext) -> NodeResult:
    decision = (ctx.resume or {}).get("decision")
    if decision is None:  # woken by the sweep: nobody answered in time
        timeout = ctx.state.get("timeout_seconds")
        decision = {"approved": False, "by": None, "comment": f"No decision within {timeout} seconds"}
    ctx.log("info", f"{'Approved' if decision['approved'] else 'Rejected'} by {decision['by'] or 'timeout'}")
    return NodeResult(output=decision, ports=("approved" if decision["approved"] else "rejected",))


NODE_TYPE = register(
    NodeType(
        type="approval",
        label="Approval",
        description="Asks people to approve or reject, waits for the answer, and continues on 'approved' or 'rejected'.",
        category=NodeCategory.HUMAN,
        inline=True,  # it only computes a wake time: no broker hop to start waiting
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
        execute=execute,
        resume=resume,
    )
)
