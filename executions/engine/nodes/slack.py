"""``slack``: post a message to Slack through an incoming-webhook credential.

The webhook URL is the credential's secret; the post goes through the SSRF
guard like any outgoing request. A dry run posts nothing.
"""

from __future__ import annotations

from typing import Any

import httpx

from executions.engine.nodes._schema import BOOLEAN, CREDENTIAL_REF, TEXT, config_schema, dynamic, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType
from integrations import http
from integrations.net import BlockedAddress

SLACK_TIMEOUT = 30


def execute(ctx: NodeContext) -> NodeResult:
    payload: dict[str, Any] = {"text": ctx.config["text"]}
    if ctx.config.get("blocks"):
        payload["blocks"] = ctx.config["blocks"]
    if ctx.dry_run:
        return NodeResult(output={"simulated": True, "would_send": payload})
    if not ctx.credential or not ctx.credential.get("url"):
        raise NodeError("The node needs a slack_webhook credential", retryable=False)
    timeout = min(SLACK_TIMEOUT, float(ctx.timeout)) if ctx.timeout else SLACK_TIMEOUT
    try:
        response = http.send(
            "POST", ctx.credential["url"], json=payload, timeout=timeout, follow_redirects=False, max_bytes=1 << 16
        )
    except BlockedAddress as exc:
        raise NodeError(exc.message, retryable=False) from None
    except httpx.TimeoutException:
        raise NodeError(f"Slack did not answer within {timeout:g}s") from None
    except (httpx.TransportError, http.ResponseTooLarge) as exc:
        raise NodeError(f"Posting to Slack failed: {exc}") from None
    if response.status >= 400:
        # Slack answers a short reason: invalid_payload, no_service, channel_is_archived…
        reason = response.text()[:200]
        raise NodeError(
            f"Slack answered HTTP {response.status}: {reason}",
            retryable=response.status >= 500 or response.status == 429,
            data={"status": response.status, "body": reason},
        )
    return NodeResult(output={"ok": True})


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
        execute=execute,
    )
)
