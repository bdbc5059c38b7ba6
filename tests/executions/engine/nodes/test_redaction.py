"""Redaction: a node that echoes its credential's secret everywhere leaves only ``[redacted]`` behind.

Runs in-thread and on a real Celery worker; the second also runs an
``http_request`` whose target echoes the ``Authorization`` header, and checks
``last_used_at``.
"""

from __future__ import annotations

import base64
import json
import logging
from urllib.parse import quote

import pytest
from django.db import connection, transaction

from executions.engine.nodes._schema import CREDENTIAL_REF, config_schema, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType
from executions.models import ExecutionLog
from executions.services import execution_start
from integrations.models import Credential
from tests.engine_fixtures import wait_finished
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

TOKEN = "tok_live_4f9a8b7c6d5e4f3a2b1c"


def _encodings(token: str) -> dict[str, str]:
    """What a hostile echo server might answer: the header as sent, encoded, and the token in other spellings."""
    header = f"Authorization: Bearer {token}\r\n".encode()
    return {
        "base64_header": base64.b64encode(header).decode(),
        "base64url_padded_by_one": base64.urlsafe_b64encode(b"x" + token.encode()).decode(),
        "base64_in_json": base64.b64encode(json.dumps({"auth": f"Bearer {token}"}).encode()).decode(),
        "hex": token.encode().hex(),
        "HEX": token.encode().hex().upper(),
        "reversed": token[::-1],
        "url_quoted": f"t={quote(token, safe='')}",
    }


def _echo_secret(ctx: NodeContext) -> NodeResult:
    token = ctx.credential["token"]
    if ctx.config.get("fail") == "encoded":
        return NodeResult(output=_encodings(token))
    ctx.log("info", f"using token {token}", data={"token": token, "list": [token]})
    if ctx.config.get("fail") == "node_error":
        raise NodeError(f"upstream said: invalid token {token}", retryable=False, data={"sent": f"Bearer {token}"})
    if ctx.config.get("fail") == "crash":
        raise RuntimeError(f"unexpected {token}")
    return NodeResult(output={"token": token, "nested": [{"header": f"Bearer {token}"}], token: "as a key"})


ECHO = register(
    NodeType(
        type="test.echo_secret",
        label="Echo secret (tests)",
        description="Puts its credential's secret into its output, logs and errors.",
        category=NodeCategory.DATA,
        config_schema=config_schema(
            {"credential": prop("Credential", "A bearer token.", CREDENTIAL_REF), "fail": prop("Fail", "How")}
        ),
        credential_types=("http_bearer",),
        credential_required=True,
        execute=_echo_secret,
    )
)


def stored_everything(execution) -> str:
    """Every column a run writes, as the database holds it."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT output_data::text, error::text FROM executions_execution WHERE id = %s", [execution.pk])
        rows = [cursor.fetchone()]
        cursor.execute(
            "SELECT output::text, error::text, state::text FROM executions_steprun WHERE execution_id = %s",
            [execution.pk],
        )
        rows += cursor.fetchall()
        cursor.execute(
            "SELECT message, data::text FROM executions_executionlog WHERE execution_id = %s", [execution.pk]
        )
        rows += cursor.fetchall()
    return json.dumps(rows)


def definition(credential, **config) -> dict:
    return linear(
        node("start", "trigger.manual"), node("echo", "test.echo_secret", credential=str(credential.pk), **config)
    )


@pytest.mark.django_db
@pytest.mark.parametrize("fail", [None, "node_error", "crash"])
def test_secrets_never_reach_outputs_errors_or_logs(inline_engine, user, make_credential, fail, caplog):
    credential = make_credential("http_bearer", {"token": TOKEN})
    workflow = workflow_create(
        owner=user, name="echo", definition=definition(credential, **({"fail": fail} if fail else {}))
    )
    with caplog.at_level(logging.INFO):
        execution = inline_engine.run(workflow)
    step = execution.steps.get(node_id="echo")
    everything = stored_everything(execution)
    assert TOKEN not in everything
    assert "[redacted]" in everything
    assert TOKEN not in caplog.text
    if fail is None:
        assert step.output == {
            "token": "[redacted]",
            "nested": [{"header": "Bearer [redacted]"}],
            "[redacted]": "as a key",
        }
        assert execution.output_data == {"echo": step.output}
    elif fail == "node_error":
        assert step.error["message"] == "upstream said: invalid token [redacted]"
        assert step.error["data"] == {"sent": "Bearer [redacted]"}
    else:
        assert step.error["message"] == "RuntimeError: unexpected [redacted]"
    log = ExecutionLog.objects.get(execution=execution, node_id="echo", message__startswith="using token")
    assert (log.message, log.data) == ("using token [redacted]", {"token": "[redacted]", "list": ["[redacted]"]})


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_a_celery_worker(celery_worker, user, make_credential, target_server, servers):
    credential = make_credential("http_bearer", {"token": TOKEN})
    flow = {
        "nodes": [
            node("start", "trigger.manual"),
            node("echo", "test.echo_secret", credential=str(credential.pk)),
            node("call", "http_request", url=target_server.url("/echo"), credential=str(credential.pk)),
            node(
                "out",
                "output",
                value={"echo": "{{ steps.echo.output }}", "auth": "{{ steps.call.output.body.headers.authorization }}"},
            ),
        ],
        "edges": [
            {"source": "start", "target": "echo"},
            {"source": "echo", "target": "call"},
            {"source": "call", "target": "out"},
        ],
    }
    workflow = workflow_create(owner=user, name="celery", definition=flow)
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data={})
    execution = wait_finished(execution.pk)
    assert execution.status == "completed", execution.error
    assert execution.output_data["auth"] == "Bearer [redacted]"
    assert target_server.hits[-1]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert TOKEN not in stored_everything(execution)
    assert Credential.objects.get(pk=credential.pk).last_used_at is not None


@pytest.mark.django_db
def test_encoded_echoes_of_the_secret_are_redacted_too(inline_engine, user, make_credential):
    """An editor pointing a credentialed call at their own server gets the header back encoded: base64
    (at any offset), hex, reversed or URL-quoted, the token still does not reach the step's output."""
    credential = make_credential("http_bearer", {"token": TOKEN})
    workflow = workflow_create(owner=user, name="echo", definition=definition(credential, fail="encoded"))
    execution = inline_engine.run(workflow)
    output = execution.steps.get(node_id="echo").output
    assert set(output) == set(_encodings(TOKEN))
    for name, value in output.items():
        assert value != _encodings(TOKEN)[name], name
        assert "[redacted]" in value, name
    everything = stored_everything(execution)
    for spelling in _encodings(TOKEN).values():
        assert spelling not in everything
