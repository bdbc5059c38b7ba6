"""``email`` through the engine against a real SMTP server (aiosmtpd): credentials, the server's settings, failures, dry runs."""

from __future__ import annotations

import email
import json

import pytest

from executions.models import Execution
from tests.engine_fixtures import wait_for
from tests.integrations.servers import SMTP_PASSWORD, SMTP_USER

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


def received(smtp_server, count: int) -> list[dict]:
    wait_for(lambda: len(smtp_server.recorder.messages) >= count, timeout=10)
    return smtp_server.recorder.messages


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


def test_email_through_an_smtp_credential(run_node, smtp_server, smtp_credential):
    smtp_server.recorder.messages.clear()
    execution, step = run_node(
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


def test_email_through_the_servers_mail_settings(run_node, smtp_server, settings):
    smtp_server.recorder.messages.clear()
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = smtp_server.host, smtp_server.port
    settings.EMAIL_HOST_USER = settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_USE_TLS = settings.EMAIL_USE_SSL = False
    settings.DEFAULT_FROM_EMAIL = "server@example.com"
    execution, step = run_node("email", {"to": "bob@example.com, eve@example.com", "subject": "S", "body": "B"})
    assert execution.status == "completed", step.error
    [message] = received(smtp_server, 1)
    assert (message["mail_from"], sorted(message["rcpt_tos"])) == (
        "server@example.com",
        ["bob@example.com", "eve@example.com"],
    )
    assert message["authenticated"] is False


def test_email_with_a_wrong_password_fails_without_retry(run_node, smtp_server, make_credential):
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
    execution, step = run_node(
        "email",
        {"to": "x@example.com", "subject": "S", "body": "B", "credential": str(credential.pk)},
        retry={"max_attempts": 3},
    )
    assert execution.status == "failed"
    assert step.attempt == 1
    assert "rejected the username or password" in step.error["message"]


def test_email_bad_recipient_and_dry_run(run_node, smtp_server, smtp_credential):
    execution, step = run_node("email", {"to": "not an address", "subject": "S", "body": "B"})
    assert step.error["message"] == "config.to: 'not an address' is not an e-mail address"

    smtp_server.recorder.messages.clear()
    execution, step = run_node(
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
