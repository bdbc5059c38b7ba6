"""The log stream through a real ASGI server (uvicorn in a subprocess) with a real HTTP client.

The server shares the test database and Redis; a Celery worker in this process runs the steps, so the
stream's wake-ups cross processes over channels-redis.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from accounts.services import api_key_create
from executions.models import Execution, ExecutionLog, StepRun
from tests.executions.live.helpers import start, token_for, wait_finished
from tests.executions.live.test_sockets import gated, wait_for_step
from tests.factories import ExecutionFactory, WorkflowFactory
from workflows.services import workflow_share

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

TIMEOUT = httpx.Timeout(20.0)


def events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parse ``text/event-stream``: one dict per event (``comment`` for ``:`` lines)."""
    event: dict[str, Any] = {}
    for line in response.iter_lines():
        if not line:
            if event:
                yield event
            event = {}
        elif line.startswith(":"):
            yield {"comment": line[1:].strip()}
        else:
            field, _, value = line.partition(":")
            event[field] = value.removeprefix(" ")


def stream(base: str, execution_id: Any, **kwargs: Any):
    return httpx.stream("GET", f"{base}/api/v1/executions/{execution_id}/logs/stream", timeout=TIMEOUT, **kwargs)


def read_to_end(
    response: httpx.Response, lines: Iterator[dict[str, Any]] | None = None
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The log lines up to the end event, and its data; asserts the server then closed the stream."""
    lines = lines or events(response)
    logs = []
    for event in lines:
        if event.get("event") == "log":
            logs.append({"id": int(event["id"]), **json.loads(event["data"])})
        elif event.get("event") == "end":
            assert list(lines) == []  # nothing after the end: the server closed the stream
            return logs, json.loads(event["data"])
    raise AssertionError("the stream closed without an end event")


def test_streams_what_is_there_then_new_lines_and_ends_with_the_run(
    asgi_server, celery_worker, make_workflow, user, tmp_path
):
    gate = tmp_path / "gate"
    execution = start(make_workflow(gated(gate, log="at the gate")))
    wait_for_step(execution, "hold", StepRun.Status.RUNNING)
    headers = {"Authorization": f"Bearer {token_for(user)}", "Accept": "text/event-stream"}
    with stream(asgi_server, execution.pk, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        lines = events(response)
        assert next(lines) == {"retry": "3000"}
        first = next(lines)
        assert (first["event"], json.loads(first["data"])["message"]) == ("log", "Run started (manual, live)")
        # The run is held at the gate: everything so far was already there; the rest comes as it is written.
        assert Execution.objects.get(pk=execution.pk).status == "running"
        gate.touch()
        logs, end = read_to_end(response, lines)
    final = wait_finished(execution.pk)
    assert [line["message"] for line in logs][:2] == ["at the gate", "after the gate"]
    assert logs[-1]["message"].startswith("Run completed")
    expected = list(ExecutionLog.objects.filter(execution=execution).order_by("id").values_list("id", flat=True))
    assert [int(first["id"])] + [line["id"] for line in logs] == expected
    assert end == {"execution_id": str(execution.pk), "status": final.status}
    assert set(logs[0]) == {"id", "node_id", "level", "message", "data", "created_at"}


def test_last_event_id_resumes_and_an_ended_run_says_204(asgi_server, celery_worker, make_workflow, user, tmp_path):
    gate = tmp_path / "gate"
    gate.touch()
    execution = wait_finished(start(make_workflow(gated(gate))).pk)
    ids = list(ExecutionLog.objects.filter(execution=execution).order_by("id").values_list("id", flat=True))
    assert len(ids) >= 3
    token = token_for(user)
    with stream(asgi_server, execution.pk, headers={"Authorization": f"Bearer {token}"}) as response:
        everything, end = read_to_end(response)
    assert [line["id"] for line in everything] == ids
    assert end["status"] == "completed"
    # EventSource reconnects with the id it saw last; query parameters do for it what headers cannot.
    with stream(asgi_server, execution.pk, headers={"Last-Event-ID": str(ids[0])}, params={"token": token}) as response:
        assert response.status_code == 200
        rest, _ = read_to_end(response)
    assert [line["id"] for line in rest] == ids[1:]
    with stream(asgi_server, execution.pk, params={"token": token, "last_event_id": ids[-1]}) as response:
        assert response.status_code == 204  # tells EventSource to stop reconnecting
    with stream(asgi_server, execution.pk, params={"token": token, "level": "error"}) as response:
        assert read_to_end(response)[0] == []


def test_heartbeat_comments_keep_an_idle_stream_open(asgi_server, user):
    execution = ExecutionFactory(workflow=WorkflowFactory(owner=user), status=Execution.Status.WAITING)
    ExecutionLog.objects.create(execution=execution, message="waiting for an approval")
    api_key = api_key_create(user=user, granted=user.api_permissions, name="k", scopes=["log:read"])[1]
    with stream(asgi_server, execution.pk, params={"api_key": api_key}) as response:
        lines = events(response)
        assert next(lines) == {"retry": "3000"}
        assert json.loads(next(lines)["data"])["message"] == "waiting for an approval"
        # The server runs with FLOWBUILDER_LIVE_HEARTBEAT_SECONDS=1 (see the fixture): idle, it pings.
        assert next(lines) == {"comment": "ping"}
        # A change that publishes no event is still noticed (the stream also reads on its own).
        Execution.objects.filter(pk=execution.pk).update(status=Execution.Status.CANCELLED)
        rest = []
        for event in lines:
            rest.append(event)
            if event.get("event") == "end":
                break
    assert all(event == {"comment": "ping"} for event in rest[:-1])
    assert json.loads(rest[-1]["data"]) == {"execution_id": str(execution.pk), "status": "cancelled"}


def test_errors_are_the_api_envelope(asgi_server, user, make_user):
    execution = ExecutionFactory(workflow=WorkflowFactory(owner=user))
    viewer, stranger = make_user(), make_user()
    workflow_share(workflow=execution.workflow, email=viewer.email, role="viewer")
    no_logs = api_key_create(user=user, granted=user.api_permissions, name="k", scopes=["execution:read"])[1]
    token = token_for(user)

    def answer(execution_id=execution.pk, **kwargs):
        with stream(asgi_server, execution_id, **kwargs) as response:
            response.read()
            return response

    anonymous = answer()
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "UNAUTHORIZED")
    assert anonymous.headers["content-type"] == "application/json"
    assert answer(params={"token": "garbage"}).status_code == 401
    assert answer(headers={"X-API-Key": "fbk_bad_key"}).status_code == 401
    hidden = answer(headers={"Authorization": f"Bearer {token_for(stranger)}", "Accept": "text/event-stream"})
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "NOT_FOUND")
    assert answer(uuid.uuid4(), params={"token": token}).status_code == 404
    assert answer(headers={"X-API-Key": no_logs}).json()["error"]["code"] == "FORBIDDEN"
    bad = answer(params={"token": token}, headers={"Last-Event-ID": "soon"})
    assert (bad.status_code, bad.json()["error"]["details"][0]["field"]) == (400, "Last-Event-ID")
    level = answer(params={"token": token, "level": "loud"})
    assert (level.status_code, level.json()["error"]["details"][0]["field"]) == (400, "level")
    assert answer(params={"token": token_for(viewer)}).status_code == 200  # viewers may read logs
    posted = httpx.post(f"{asgi_server}/api/v1/executions/{execution.pk}/logs/stream", params={"token": token})
    assert (posted.status_code, posted.json()["error"]["code"]) == (405, "METHOD_NOT_ALLOWED")
    assert anonymous.headers["x-request-id"]
