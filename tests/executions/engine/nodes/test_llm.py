"""``llm`` through the engine against a local OpenAI-compatible server: prompts, usage and cost, JSON schema, errors."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from executions.models import Execution
from integrations.models import AIUsage
from tests.integrations.servers import OPENAI_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


def test_llm_prompt_usage_and_cost(run_node, openai_server, openai_credential, user):
    execution, step = run_node(
        "llm",
        {
            "credential": str(openai_credential.pk),
            "prompt": "Summarise {{ input.topic }}",
            "system": "Be brief.",
            "max_tokens": 20,
        },
        input_data={"topic": "tides"},
    )
    assert execution.status == "completed", step.error
    assert step.output["text"] == "echo: Summarise tides"
    assert step.output["usage"] == {"prompt_tokens": 4, "completion_tokens": 3, "total_tokens": 7}
    assert step.output["cost"] == pytest.approx((4 * 0.15 + 3 * 0.60) / 1_000_000)
    sent = json.loads(openai_server.hits[-1]["body"])
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Summarise tides"},
    ]
    assert (sent["model"], sent["max_tokens"], sent["temperature"]) == ("gpt-4o-mini", 20, 0.7)
    usage = AIUsage.objects.get()
    assert (usage.user, usage.source, usage.execution_id, usage.total_tokens) == (user, "node", execution.pk, 7)
    assert usage.cost == Decimal("0.0000024")
    assert OPENAI_KEY not in json.dumps(step.output)


def test_llm_messages(run_node, openai_server, openai_credential):
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tell me a joke"},
    ]
    _, step = run_node("llm", {"credential": str(openai_credential.pk), "messages": messages, "model": "gpt-4.1"})
    assert step.output["text"] == "echo: Tell me a joke"
    assert json.loads(openai_server.hits[-1]["body"])["messages"] == messages


def test_llm_json_schema(run_node, openai_server, openai_credential):
    schema = {
        "type": "object",
        "properties": {"sentiment": {"enum": ["positive", "negative"]}, "score": {"type": "number"}},
        "required": ["sentiment", "score"],
    }
    openai_server.state["replies"] = ['{"sentiment": "positive", "score": 0.9}']
    execution, step = run_node(
        "llm", {"credential": str(openai_credential.pk), "prompt": "Rate it", "json_schema": schema}
    )
    assert execution.status == "completed", step.error
    assert step.output["json"] == {"sentiment": "positive", "score": 0.9}
    sent = json.loads(openai_server.hits[-1]["body"])
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}

    openai_server.state["replies"] = ['{"sentiment": "meh", "score": 0.9}']
    execution, step = run_node(
        "llm", {"credential": str(openai_credential.pk), "prompt": "Rate it", "json_schema": schema}
    )
    assert execution.status == "failed"
    assert step.error["message"].startswith("The model's answer does not match json_schema at sentiment")

    openai_server.state["replies"] = ["not json at all"]
    execution, step = run_node(
        "llm", {"credential": str(openai_credential.pk), "prompt": "Rate it", "json_schema": schema}
    )
    assert step.error["message"] == "The model's answer is not JSON"


@pytest.mark.parametrize(("model", "retried"), [("broken", True), ("busy", True), ("unknown", False)])
def test_llm_provider_errors(run_node, openai_credential, inline_engine, model, retried):
    _execution, step = run_node(
        "llm",
        {"credential": str(openai_credential.pk), "prompt": "x", "model": model},
        retry={"max_attempts": 2, "backoff_seconds": 1},
    )
    assert step.status == ("retrying" if retried else "failed")
    assert not AIUsage.objects.exists()


def test_llm_rejected_key_is_not_retried(run_node, make_credential, openai_server):
    credential = make_credential(
        "openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": "sk-wrong-000000"}
    )
    _execution, step = run_node("llm", {"credential": str(credential.pk), "prompt": "x"}, retry={"max_attempts": 3})
    assert (step.status, step.attempt) == ("failed", 1)
    assert "API key was rejected" in step.error["message"]


def test_llm_dry_run(run_node, openai_server, openai_credential):
    _execution, step = run_node(
        "llm", {"credential": str(openai_credential.pk), "prompt": "hello"}, mode=Execution.Mode.DRY_RUN
    )
    assert step.output["simulated"] is True
    assert step.output["would_send"]["messages"] == [{"role": "user", "content": "hello"}]
    assert step.output["would_send"]["url"] == openai_server.url("/v1/chat/completions")
    assert openai_server.hits == []
    assert not AIUsage.objects.exists()
