"""``http_request`` through the engine against real local servers: requests, credentials, limits, SSRF, dry runs."""

from __future__ import annotations

import json
from functools import partial

import httpx
import pytest

from executions.models import Execution, ExecutionLog
from integrations.models import Credential
from integrations.services import credential_data
from tests.integrations.servers import BASIC_PASSWORD, BASIC_USER
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


@pytest.fixture
def run(run_node):
    """``run(config, ...)``: ``start → call``, an http_request with ``config``."""
    return partial(run_node, "http_request", node_id="call")


def test_get_json(run, target_server):
    execution, step = run(
        {"url": target_server.url("/echo"), "query": {"q": "books", "n": 3}, "headers": {"X-Trace": "t1"}}
    )
    assert execution.status == "completed", step.error
    assert step.output["status"] == 200
    assert step.output["headers"]["content-type"] == "application/json"
    body = step.output["body"]
    assert (body["method"], body["query"], body["headers"]["x-trace"]) == ("GET", {"q": "books", "n": "3"}, "t1")
    assert body["headers"]["user-agent"] == "Flowbuilder/1.0"


@pytest.mark.parametrize(
    ("body_type", "body", "content_type", "sent"),
    [
        ("json", {"a": 1, "b": [1, 2]}, "application/json", '{"a":1,"b":[1,2]}'),
        ("form", {"a": "1", "b": "x y"}, "application/x-www-form-urlencoded", "a=1&b=x+y"),
        ("raw", "<xml>hi</xml>", None, "<xml>hi</xml>"),
    ],
)
def test_bodies(run, target_server, body_type, body, content_type, sent):
    headers = {"Content-Type": "text/xml"} if body_type == "raw" else {}
    execution, step = run(
        {"method": "POST", "url": target_server.url("/echo"), "body": body, "body_type": body_type, "headers": headers}
    )
    assert execution.status == "completed", step.error
    echoed = step.output["body"]
    assert echoed["body"].replace(" ", "") == sent.replace(" ", "") if body_type == "json" else echoed["body"] == sent
    assert echoed["headers"]["content-type"] == (content_type or "text/xml")


def test_text_body_and_methods(run, target_server):
    _, step = run({"url": target_server.url("/text")})
    assert step.output["body"] == "hello, text"
    for method in ("PUT", "PATCH", "DELETE", "OPTIONS"):
        _, step = run({"method": method, "url": target_server.url("/echo")})
        assert step.output["body"]["method"] == method
    _, step = run({"method": "HEAD", "url": target_server.url("/echo")})
    assert (step.output["status"], step.output["body"]) == (200, None)


def test_expressions_in_url_and_headers(run, target_server):
    _, step = run(
        {"url": target_server.url("/echo") + "?id={{ input.id }}", "headers": {"X-User": "{{ input.user }}"}},
        input_data={"id": 42, "user": "ada"},
    )
    assert step.output["body"]["query"] == {"id": "42"}
    assert step.output["body"]["headers"]["x-user"] == "ada"


def test_fail_on_status(run, target_server):
    execution, step = run({"url": target_server.url("/status/404")})
    assert (execution.status, step.status, step.attempt) == ("failed", "failed", 1)
    assert step.error["message"].endswith("answered HTTP 404")
    assert step.error["data"]["status"] == 404
    assert step.error["data"]["body"]["error"] == "as asked"

    execution, step = run({"url": target_server.url("/status/404"), "fail_on_status": False})
    assert execution.status == "completed"
    assert step.output["status"] == 404


@pytest.mark.parametrize(("status", "retried"), [(503, True), (429, True), (400, False), (404, False)])
def test_5xx_and_429_are_retried_4xx_not(run, target_server, inline_engine, status, retried):
    _execution, step = run(
        {"url": target_server.url(f"/status/{status}")}, retry={"max_attempts": 2, "backoff_seconds": 1}
    )
    if retried:
        assert step.status == "retrying"
        inline_engine.run_deferred()
        step.refresh_from_db()
        assert (step.status, step.attempt) == ("failed", 2)
    else:
        assert (step.status, step.attempt) == ("failed", 1)


def test_redirects_are_followed_by_hand(run, target_server):
    hop2 = str(
        httpx.URL(target_server.url("/redirect"), params={"to": target_server.url("/echo?final=1"), "code": "307"})
    )
    url = str(httpx.URL(target_server.url("/redirect"), params={"to": hop2}))
    _, step = run({"url": url})
    assert step.output["status"] == 200
    assert step.output["body"]["query"] == {"final": "1"}
    assert step.output["url"] == target_server.url("/echo?final=1")

    _, step = run({"url": url, "follow_redirects": False, "fail_on_status": False})
    assert step.output["status"] == 302
    assert step.output["headers"]["location"] == hop2

    execution, step = run({"url": url, "max_redirects": 1})
    assert execution.status == "failed"
    assert "More than 1 redirects" in step.error["message"]


def test_303_turns_a_post_into_a_get(run, target_server):
    url = str(httpx.URL(target_server.url("/redirect"), params={"to": target_server.url("/echo"), "code": "303"}))
    _, step = run({"method": "POST", "url": url, "body": {"x": 1}})
    assert (step.output["body"]["method"], step.output["body"]["body"]) == ("GET", "")


def test_timeout(run, target_server):
    execution, step = run({"url": target_server.url("/slow?seconds=3"), "timeout_seconds": 1})
    assert execution.status == "failed"
    assert "timed out after 1s" in step.error["message"]
    # The node's own timeout bounds it too.
    execution, step = run({"url": target_server.url("/slow?seconds=3")}, timeout_seconds=0.5)
    assert "timed out after 0.5s" in step.error["message"]


@pytest.mark.parametrize("path", ["/big?bytes=2000", "/big-chunked?bytes=300000"])
def test_response_size_cap(run, target_server, settings, path):
    settings.FLOWBUILDER_HTTP_MAX_RESPONSE_BYTES = 1000 if "chunked" not in path else 100_000
    execution, step = run({"url": target_server.url(path)})
    assert execution.status == "failed"
    assert "larger than the" in step.error["message"]
    assert "-byte limit" in step.error["message"]


# --- SSRF ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host", ["127.0.0.2", "2130706434", "0x7f000002", "127.2", "[::ffff:127.0.0.2]", "0177.0.0.2", "[::1]"]
)
def test_internal_addresses_are_refused(run, internal_server, internal_v6_server, host):
    port = internal_v6_server.port if host == "[::1]" else internal_server.port
    execution, step = run({"url": f"http://{host}:{port}/admin"}, retry={"max_attempts": 3})
    assert execution.status == "failed"
    assert step.attempt == 1  # refused is final, not retried
    assert step.error["message"].startswith("Refused")


def test_a_redirect_into_an_internal_address_is_refused(run, target_server, internal_server):
    url = str(httpx.URL(target_server.url("/redirect"), params={"to": f"http://127.0.0.2:{internal_server.port}/"}))
    execution, step = run({"url": url})
    assert execution.status == "failed"
    assert "127.0.0.2: it is a loopback address" in step.error["message"]


def test_localhost_is_refused_without_an_allow_list(run, target_server, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = []
    execution, step = run({"url": f"http://localhost:{target_server.port}/echo"})
    assert execution.status == "failed"
    assert "loopback" in step.error["message"]
    assert target_server.hits == []


# --- credentials ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "data", "path"),
    [
        ("http_basic", {"username": BASIC_USER, "password": BASIC_PASSWORD}, "/basic"),
        ("http_bearer", {"token": "bearer-token-0123456789"}, "/bearer"),
        ("api_key", {"name": "X-Api-Key", "value": "key-0123456789abcdef"}, "/apikey"),
        ("api_key", {"name": "api_key", "value": "key-0123456789abcdef", "in": "query"}, "/apikey"),
    ],
)
def test_credential_injection(run, target_server, make_credential, kind, data, path):
    credential = make_credential(kind, data)
    execution, step = run({"url": target_server.url(path), "credential": str(credential.pk)})
    assert execution.status == "completed", step.error
    assert step.output["body"] == {"ok": True}
    assert Credential.objects.get(pk=credential.pk).last_used_at is not None


def test_the_secret_is_redacted_from_output_logs_and_errors(run, target_server, make_credential):
    token = "bearer-token-that-must-not-leak-42"
    credential = make_credential("http_bearer", {"token": token})
    execution, step = run({"url": target_server.url("/echo"), "credential": str(credential.pk)})
    assert execution.status == "completed", step.error
    assert target_server.hits[-1]["headers"]["authorization"] == f"Bearer {token}"  # it was sent…
    assert step.output["body"]["headers"]["authorization"] == "Bearer [redacted]"  # …and not kept
    stored = json.dumps([step.output, execution.output_data])
    assert token not in stored

    # In an error (the failing response echoes it) and the log lines too.
    key = "query-key-that-must-not-leak-42"
    credential = make_credential("api_key", {"name": "api_key", "value": key, "in": "query"})
    execution, step = run({"url": target_server.url("/echo-missing"), "credential": str(credential.pk)})
    assert execution.status == "failed"
    logs = list(ExecutionLog.objects.filter(execution=execution).values_list("message", "data"))
    assert key not in json.dumps([step.error, execution.error, execution.output_data, logs])


def test_dry_run_redacts_what_it_would_send(run, target_server, make_credential):
    credential = make_credential("http_bearer", {"token": "bearer-token-0123456789"})
    execution, step = run(
        {
            "method": "POST",
            "url": target_server.url("/echo"),
            "body": {"a": 1},
            "query": {"x": "1"},
            "credential": str(credential.pk),
        },
        mode=Execution.Mode.DRY_RUN,
    )
    assert execution.status == "completed", step.error
    assert step.output == {
        **{"status": 200, "headers": {}, "body": {}, "url": target_server.url("/echo?x=1")},  # an empty 200's keys
        "simulated": True,
        "would_send": {
            "method": "POST",
            "url": target_server.url("/echo?x=1"),
            "headers": {"Authorization": "[redacted]"},
            "body": {"a": 1},
        },
    }
    assert target_server.hits == []
    # GET runs for real in a dry run.
    _, step = run({"url": target_server.url("/text")}, mode=Execution.Mode.DRY_RUN)
    assert step.output["body"] == "hello, text"


def test_oauth2_token_is_refreshed_when_rejected(run, target_server, make_credential):
    target_server.state.update(access_token="current-access-token-0000", refresh_token="refresh-token-0000")
    credential = make_credential(
        "oauth2_token",
        {
            "access_token": "stale-access-token-0000",
            "refresh_token": "refresh-token-0000",
            "token_url": target_server.url("/oauth/token"),
            "client_id": "fb",
        },
    )
    execution, step = run({"url": target_server.url("/oauth/protected"), "credential": str(credential.pk)})
    assert execution.status == "completed", step.error
    assert step.output["body"]["ok"] is True
    assert step.output["body"]["auth"] == "Bearer [redacted]"  # the refreshed token is redacted too
    stored = credential_data(Credential.objects.get(pk=credential.pk))
    assert (stored["access_token"], stored["refresh_token"]) == (
        "fresh-access-token-0001",
        "rotated-refresh-token-0001",
    )
    assert ExecutionLog.objects.filter(execution=execution, message__contains="refreshing it").exists()
    # Next run uses the stored token: no refresh.
    run({"url": target_server.url("/oauth/protected"), "credential": str(credential.pk)})
    assert target_server.state["refreshes"] == 1


def test_credentials_stay_on_their_origin_across_redirects(run, target_server, make_credential, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1", "localhost"]
    credential = make_credential("api_key", {"name": "X-Api-Key", "value": "key-0123456789abcdef"})
    elsewhere = f"http://localhost:{target_server.port}/echo"
    url = str(httpx.URL(target_server.url("/redirect"), params={"to": elsewhere}))
    _, step = run({"url": url, "credential": str(credential.pk)})
    assert "x-api-key" not in step.output["body"]["headers"]


def test_another_users_credential_is_refused_at_run_time(run, target_server, make_credential, make_user):
    """A reference built by an expression passes the save-time check; the run-time check stops it."""
    theirs = make_credential("http_bearer", {"token": "their-token-0123456789"}, owner=make_user())
    execution, step = run(
        {"url": target_server.url("/echo"), "credential": "{{ input.credential }}"},
        input_data={"credential": str(theirs.pk)},
        retry={"max_attempts": 3},
    )
    assert execution.status == "failed"
    assert (step.error["message"], step.attempt) == ("Credential not found", 1)
    assert target_server.hits == []


def test_a_deleted_credential_fails_the_step(run, target_server, make_credential, user, inline_engine):
    credential = make_credential("http_bearer", {"token": "bearer-token-0123456789"})
    definition = linear(
        node("start", "trigger.manual"),
        node("call", "http_request", url=target_server.url("/echo"), credential=str(credential.pk)),
    )
    workflow = workflow_create(owner=user, name="wf", definition=definition)
    credential.delete()
    execution = inline_engine.run(workflow)
    assert execution.steps.get(node_id="call").error["message"] == "Credential not found"


def test_wrong_credential_type_at_run_time(run, target_server, make_credential):
    smtp = make_credential("smtp", {"host": "smtp.example.com", "port": 25, "from_email": "a@example.com"})
    _execution, step = run(
        {"url": target_server.url("/echo"), "credential": "{{ input.c }}"}, input_data={"c": str(smtp.pk)}
    )
    assert (
        step.error["message"]
        == "Expected a credential of type http_basic, http_bearer, api_key or oauth2_token, got smtp"
    )
