"""``email``, ``slack`` and ``llm`` through the engine against real local peers (aiosmtpd, HTTP, OpenAI-compatible)."""

from __future__ import annotations

import email
import json
from decimal import Decimal

import pytest

from executions.models import Execution
from integrations.models import AIUsage
from tests.engine_fixtures import wait_for
from tests.integrations.servers import OPENAI_KEY, SMTP_PASSWORD, SMTP_USER
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


@pytest.fixture
def run(inline_engine, user):
    def run(node_type: str, config: dict, *, input_data: dict | None = None, mode: str = "live", **node_fields):
        step = {**node("n", node_type, **config), **node_fields}
        workflow = workflow_create(owner=user, name=node_type, definition=linear(node("start", "trigger.manual"), step))
        execution = inline_engine.run(workflow, input_data or {}, mode=mode)
        return execution, execution.steps.get(node_id="n")

    return run


def received(smtp_server, count: int) -> list[dict]:
    wait_for(lambda: len(smtp_server.recorder.messages) >= count, timeout=10)
    return smtp_server.recorder.messages


# --- email -------------------------------------------------------------------------------------------


@pytest.fixture
def smtp_credential(make_credential, smtp_server):
    return make_credential(
        "smtp",
        {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "username": SMTP_USER,
            "password": SMTP_PASSWORD,
            "from_email": "Flows <flows@example.com>",
            "use_tls": False,
        },
    )


def test_email_through_an_smtp_credential(run, smtp_server, smtp_credential):
    smtp_server.recorder.messages.clear()
    execution, step = run(
        "email",
        {
            "to": "{{ input.email }}",
            "cc": ["cc@example.com"],
            "subject": "Hello {{ input.name }}",
            "body": "Plain hello, {{ input.name }}.",
            "html": "<p>HTML hello, <b>{{ input.name }}</b>.</p>",
            "credential": str(smtp_credential.pk),
        },
        input_data={"email": "ada@example.com", "name": "Ada"},
    )
    assert execution.status == "completed", step.error
    [message] = received(smtp_server, 1)
    assert message["authenticated"] is True  # it logged in with the credential
    assert message["mail_from"] == "flows@example.com"
    assert sorted(message["rcpt_tos"]) == ["ada@example.com", "cc@example.com"]
    parsed = email.message_from_string(message["content"])
    assert parsed["Subject"] == "Hello Ada"
    assert parsed["Message-ID"] == step.output["message_id"]
    parts = {
        part.get_content_type(): part.get_payload(decode=True).decode()
        for part in parsed.walk()
        if not part.is_multipart()
    }
    assert parts["text/plain"].strip() == "Plain hello, Ada."
    assert parts["text/html"].strip() == "<p>HTML hello, <b>Ada</b>.</p>"
    assert SMTP_PASSWORD not in json.dumps([step.output, execution.output_data])


def test_email_through_the_servers_mail_settings(run, smtp_server, settings):
    smtp_server.recorder.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "server@example.com"
    execution, step = run("email", {"to": "bob@example.com, eve@example.com", "subject": "S", "body": "B"})
    assert execution.status == "completed", step.error
    [message] = received(smtp_server, 1)
    assert (message["mail_from"], sorted(message["rcpt_tos"])) == (
        "server@example.com",
        ["bob@example.com", "eve@example.com"],
    )
    assert message["authenticated"] is False


def test_email_with_a_wrong_password_fails_without_retry(run, smtp_server, make_credential):
    credential = make_credential(
        "smtp",
        {
            "host": smtp_server.host,
            "port": smtp_server.port,
            "username": SMTP_USER,
            "password": "wrong-password-1",
            "from_email": "a@example.com",
            "use_tls": False,
        },
    )
    execution, step = run(
        "email",
        {"to": "x@example.com", "subject": "S", "body": "B", "credential": str(credential.pk)},
        retry={"max_attempts": 3},
    )
    assert execution.status == "failed"
    assert step.attempt == 1
    assert "rejected the username or password" in step.error["message"]


def test_email_bad_recipient_and_dry_run(run, smtp_server, smtp_credential):
    execution, step = run("email", {"to": "not an address", "subject": "S", "body": "B"})
    assert step.error["message"] == "config.to: 'not an address' is not an e-mail address"

    smtp_server.recorder.messages.clear()
    execution, step = run(
        "email",
        {"to": "a@example.com", "subject": "S", "body": "B", "html": "<b>B</b>", "credential": str(smtp_credential.pk)},
        mode=Execution.Mode.DRY_RUN,
    )
    assert execution.status == "completed"
    assert step.output["simulated"] is True
    assert step.output["would_send"] == {
        "from": "Flows <flows@example.com>",
        "to": ["a@example.com"],
        "cc": [],
        "bcc": [],
        "reply_to": [],
        "subject": "S",
        "body": "B",
        "html": "<b>B</b>",
        "via": "smtp credential",
    }
    assert smtp_server.recorder.messages == []


# --- slack -------------------------------------------------------------------------------------------


def test_slack_posts_to_the_webhook(run, target_server, make_credential):
    url = target_server.url("/slack/T0001/B0001/abcdefghijklmnop")
    credential = make_credential("slack_webhook", {"url": url})
    blocks = [{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]
    execution, step = run(
        "slack",
        {"credential": str(credential.pk), "text": "Run {{ input.n }} done", "blocks": blocks},
        input_data={"n": 7},
    )
    assert execution.status == "completed", step.error
    assert step.output == {"ok": True}
    assert target_server.state["slack"] == [{"text": "Run 7 done", "blocks": blocks}]

    gone = make_credential("slack_webhook", {"url": target_server.url("/slack/T0001/B0001/gone")})
    execution, step = run("slack", {"credential": str(gone.pk), "text": "x"})
    assert execution.status == "failed"
    assert step.error["message"] == "Slack answered HTTP 404: no_service"
    assert "/slack/T0001/B0001/gone" not in json.dumps(step.error)


def test_slack_dry_run_posts_nothing(run, target_server, make_credential):
    credential = make_credential("slack_webhook", {"url": target_server.url("/slack/T/B/secret-path-123")})
    _execution, step = run("slack", {"credential": str(credential.pk), "text": "hello"}, mode=Execution.Mode.DRY_RUN)
    assert step.output == {"simulated": True, "would_send": {"text": "hello"}}
    assert target_server.hits == []


def test_slack_webhook_behind_the_guard(run, internal_server, make_credential):
    credential = make_credential("slack_webhook", {"url": f"http://127.2:{internal_server.port}/hook"})
    execution, step = run("slack", {"credential": str(credential.pk), "text": "x"})
    assert execution.status == "failed"
    assert "Refused" in step.error["message"]


# --- llm ------------------------------------------------------------------------------------------


@pytest.fixture
def openai_credential(make_credential, openai_server):
    return make_credential(
        "openai_compatible",
        {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY, "default_model": "gpt-4o-mini"},
    )


def test_llm_prompt_usage_and_cost(run, openai_server, openai_credential, user):
    execution, step = run(
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


def test_llm_messages(run, openai_server, openai_credential):
    messages = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello!"},
        {"role": "user", "content": "Tell me a joke"},
    ]
    _, step = run("llm", {"credential": str(openai_credential.pk), "messages": messages, "model": "gpt-4.1"})
    assert step.output["text"] == "echo: Tell me a joke"
    assert json.loads(openai_server.hits[-1]["body"])["messages"] == messages


def test_llm_json_schema(run, openai_server, openai_credential):
    schema = {
        "type": "object",
        "properties": {"sentiment": {"enum": ["positive", "negative"]}, "score": {"type": "number"}},
        "required": ["sentiment", "score"],
    }
    openai_server.state["replies"] = ['{"sentiment": "positive", "score": 0.9}']
    execution, step = run("llm", {"credential": str(openai_credential.pk), "prompt": "Rate it", "json_schema": schema})
    assert execution.status == "completed", step.error
    assert step.output["json"] == {"sentiment": "positive", "score": 0.9}
    sent = json.loads(openai_server.hits[-1]["body"])
    assert sent["response_format"] == {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}

    openai_server.state["replies"] = ['{"sentiment": "meh", "score": 0.9}']
    execution, step = run("llm", {"credential": str(openai_credential.pk), "prompt": "Rate it", "json_schema": schema})
    assert execution.status == "failed"
    assert step.error["message"].startswith("The model's answer does not match json_schema at sentiment")

    openai_server.state["replies"] = ["not json at all"]
    execution, step = run("llm", {"credential": str(openai_credential.pk), "prompt": "Rate it", "json_schema": schema})
    assert step.error["message"] == "The model's answer is not JSON"


@pytest.mark.parametrize(("model", "retried"), [("broken", True), ("busy", True), ("unknown", False)])
def test_llm_provider_errors(run, openai_credential, inline_engine, model, retried):
    _execution, step = run(
        "llm",
        {"credential": str(openai_credential.pk), "prompt": "x", "model": model},
        retry={"max_attempts": 2, "backoff_seconds": 1},
    )
    assert step.status == ("retrying" if retried else "failed")
    assert not AIUsage.objects.exists()


def test_llm_rejected_key_is_not_retried(run, make_credential, openai_server):
    credential = make_credential(
        "openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": "sk-wrong-000000"}
    )
    _execution, step = run("llm", {"credential": str(credential.pk), "prompt": "x"}, retry={"max_attempts": 3})
    assert (step.status, step.attempt) == ("failed", 1)
    assert "API key was rejected" in step.error["message"]


def test_llm_dry_run(run, openai_server, openai_credential):
    _execution, step = run(
        "llm", {"credential": str(openai_credential.pk), "prompt": "hello"}, mode=Execution.Mode.DRY_RUN
    )
    assert step.output["simulated"] is True
    assert step.output["would_send"]["messages"] == [{"role": "user", "content": "hello"}]
    assert step.output["would_send"]["url"] == openai_server.url("/v1/chat/completions")
    assert openai_server.hits == []
    assert not AIUsage.objects.exists()
