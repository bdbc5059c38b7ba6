"""``slack`` through the engine against a real local webhook receiver, behind the SSRF guard."""

from __future__ import annotations

import json

import pytest

from executions.models import Execution

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


def test_slack_posts_to_the_webhook(run_node, target_server, make_credential):
    url = target_server.url("/slack/T0001/B0001/abcdefghijklmnop")
    credential = make_credential("slack_webhook", {"url": url})
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    execution, step = run_node(
        "slack",
        {"credential": str(credential.pk), "text": "Run {{ input.n }} done", "blocks": blocks},
        input_data={"n": 7},
    )
    assert execution.status == "completed", step.error
    assert step.output == {"ok": True}
    assert target_server.state["slack"] == [{"text": "Run 7 done", "blocks": blocks}]

    gone = make_credential("slack_webhook", {"url": target_server.url("/slack/T0001/B0001/gone")})
    execution, step = run_node("slack", {"credential": str(gone.pk), "text": "x"})
    assert execution.status == "failed"
    assert step.error["message"] == "Slack answered HTTP 404: no_service"
    assert "/slack/T0001/B0001/gone" not in json.dumps(step.error)


def test_slack_dry_run_posts_nothing(run_node, target_server, make_credential):
    credential = make_credential("slack_webhook", {"url": target_server.url("/slack/T/B/secret-path-123")})
    _execution, step = run_node(
        "slack", {"credential": str(credential.pk), "text": "hello"}, mode=Execution.Mode.DRY_RUN
    )
    assert step.output == {"simulated": True, "would_send": {"text": "hello"}}
    assert target_server.hits == []


def test_slack_webhook_behind_the_guard(run_node, internal_server, make_credential):
    credential = make_credential("slack_webhook", {"url": f"http://127.2:{internal_server.port}/hook"})
    execution, step = run_node("slack", {"credential": str(credential.pk), "text": "x"})
    assert execution.status == "failed"
    assert "Refused" in step.error["message"]
