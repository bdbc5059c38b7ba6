"""The executions API through the real URL conf.

Permission and bad-input tests build rows with factories and run nothing
(plain ``django_db``: on-commit dispatch never fires). Tests that need runs to
execute use the real services and the session's Celery worker on Redis.
"""

from __future__ import annotations

import time
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import api_key_create
from executions.models import Execution, ExecutionLog, StepRun
from tests.clients import client_for
from tests.engine_fixtures import wait_finished, wait_status
from tests.factories import ExecutionFactory, WorkflowFactory
from tests.workflows.helpers import edge, linear, node, simple_definition
from workflows.models import WorkflowShare, WorkflowVersion

LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)

ERROR_KEYS = {"code", "message", "details", "request_id", "timestamp"}


def execute_url(workflow) -> str:
    return f"/api/v1/workflows/{workflow.pk}/execute"


def execute(client: APIClient, workflow, body=None, **headers):
    return client.post(execute_url(workflow), {} if body is None else body, format="json", **headers)


def error(response, status: int, code: str, reason: str | None = None) -> dict:
    """The error envelope, with SPEC §2's ``code`` and, where given, the specific ``reason``."""
    assert response.status_code == status, response.content
    body = response.json()["error"]
    assert set(body) == ERROR_KEYS | ({"reason"} if reason else set())
    assert body["code"] == code
    assert body.get("reason") == reason
    assert body["request_id"] == response["X-Request-ID"]
    return body


def fields(response) -> set[str | None]:
    return {d["field"] for d in response.json()["error"]["details"]}


def share(workflow, user, role=WorkflowShare.Role.VIEWER) -> WorkflowShare:
    return WorkflowShare.objects.create(workflow=workflow, user=user, role=role)


def steps_for(execution: Execution, **statuses: str) -> list[StepRun]:
    """StepRun rows for every node of the run's version, in definition order (statuses by node id)."""
    return StepRun.objects.bulk_create(
        StepRun(
            execution=execution,
            node_id=n["id"],
            node_type=n["type"],
            status=statuses.get(n["id"], StepRun.Status.COMPLETED),
        )
        for n in execution.workflow_version.definition["nodes"]
    )


def approval_definition(**approval_config):
    return {
        "nodes": [
            node("start", "trigger.manual"),
            node("ask", "approval", message="Ship it?", **approval_config),
            node("yes", "transform", value="shipped"),
            node("no", "transform", value="not shipped"),
        ],
        "edges": [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
        "variables": {},
        "settings": {},
    }


# --- execute: input validation and access (nothing runs) -------------------------------------


@pytest.mark.django_db
class TestExecuteRequests:
    def test_async_answers_202_with_the_short_body(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, {"input_data": {"n": 21}})
        assert response.status_code == 202, response.content
        body = response.json()
        assert set(body) == {"id", "execution_id", "workflow_id", "status", "started_at", "created_at", "input_data"}
        assert body["id"] == body["execution_id"]  # `id`, as in the full run (the SDKs' `run.id`)
        assert body["workflow_id"] == str(workflow.pk)
        assert body["status"] == "queued"
        assert body["input_data"] == {"n": 21}
        execution = Execution.objects.get(pk=body["execution_id"])
        assert execution.triggered_by == user
        assert execution.trigger == Execution.Trigger.MANUAL
        assert execution.mode == Execution.Mode.LIVE
        assert execution.steps.count() == 3

    def test_input_defaults_to_an_empty_object_and_webhook_url_is_kept(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, {"webhook_url": "https://hooks.example.com/done"})
        assert response.status_code == 202, response.content
        execution = Execution.objects.get(pk=response.json()["execution_id"])
        assert execution.input_data == {}
        assert execution.webhook_url == "https://hooks.example.com/done"

    @pytest.mark.parametrize("url", ["http://127.0.0.2/hook", "http://169.254.169.254/latest", "http://[::1]/x"])
    def test_webhook_url_to_an_internal_address_is_refused_up_front(self, auth_client, user, url):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, {"webhook_url": url})
        assert response.status_code == 400, response.content
        assert fields(response) == {"webhook_url"}
        assert not Execution.objects.exists()

    def test_idempotency_key_returns_the_same_execution(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        first = execute(auth_client, workflow, {"input_data": {"n": 1}}, HTTP_IDEMPOTENCY_KEY="order-7")
        again = execute(auth_client, workflow, {"input_data": {"n": 1}}, HTTP_IDEMPOTENCY_KEY="order-7")
        other = execute(auth_client, workflow, {"input_data": {"n": 1}}, HTTP_IDEMPOTENCY_KEY="order-8")
        assert first.status_code == 202
        assert "Idempotent-Replayed" not in first
        assert again.status_code == 200, again.content
        assert again["Idempotent-Replayed"] == "true"
        assert again.json() == first.json()
        assert other.json()["execution_id"] != first.json()["execution_id"]
        assert Execution.objects.count() == 2
        assert Execution.objects.get(pk=first.json()["execution_id"]).idempotency_key == "order-7"

    def test_sync_that_does_not_end_in_time_answers_202(self, auth_client, user, settings):
        settings.FLOWBUILDER_SYNC_WAIT_SECONDS = 0.1
        # Its step is queued for a worker, and no worker runs in this test.
        workflow = WorkflowFactory(
            owner=user, definition=linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1))
        )
        response = execute(auth_client, workflow, {"input_data": {"n": 1}, "mode": "sync"})
        assert response.status_code == 202, response.content
        assert response.json()["status"] == "running"

    def test_sync_starts_the_run_in_the_request(self, auth_client, user, settings):
        """Trigger and inline nodes run in the request that waits for them: no worker is needed."""
        workflow = WorkflowFactory(owner=user, definition=simple_definition())
        response = execute(auth_client, workflow, {"input_data": {"n": 4}, "mode": "sync"})
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "completed"
        assert response.json()["output_data"] == {"result": 8}

    @pytest.mark.parametrize(
        ("body", "field"),
        [
            ({"mode": "later"}, "mode"),
            ({"webhook_url": "not a url"}, "webhook_url"),
            ({"webhook_url": "ftp://example.com/x"}, "webhook_url"),
            ({"webhook_url": "https://example.com/" + "x" * 2000}, "webhook_url"),
            ({"input_data": None}, "input_data"),
            ([1, 2], None),
            ("just a string", None),
        ],
    )
    def test_bad_body(self, auth_client, user, body, field):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, body)
        error(response, 400, "VALIDATION_ERROR")
        assert fields(response) == {field}
        assert not Execution.objects.exists()

    def test_malformed_json(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = auth_client.post(execute_url(workflow), "{nope", content_type="application/json")
        error(response, 400, "VALIDATION_ERROR")

    def test_idempotency_key_over_255_characters(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, HTTP_IDEMPOTENCY_KEY="k" * 256)
        error(response, 400, "VALIDATION_ERROR")
        assert fields(response) == {"Idempotency-Key"}
        assert execute(auth_client, workflow, HTTP_IDEMPOTENCY_KEY="k" * 255).status_code == 202

    def test_input_schema_violations_name_the_field(self, auth_client, user):
        schema = {
            "type": "object",
            "required": ["n"],
            "properties": {"n": {"type": "integer"}, "tags": {"type": "array", "items": {"type": "string"}}},
        }
        definition = linear(node("start", "trigger.manual", input_schema=schema), node("out", "output", value=1))
        workflow = WorkflowFactory(owner=user, definition=definition)
        response = execute(auth_client, workflow, {"input_data": {"n": "twelve", "tags": ["a", 2]}})
        error(response, 400, "VALIDATION_ERROR")
        assert fields(response) == {"input_data.n", "input_data.tags[1]"}
        missing = execute(auth_client, workflow, {"input_data": {}})
        assert fields(missing) == {"input_data"}
        assert not Execution.objects.exists()
        assert execute(auth_client, workflow, {"input_data": {"n": 12}}).status_code == 202

    def test_input_over_1_mb(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, {"input_data": {"blob": "x" * 1_100_000}})
        error(response, 413, "PAYLOAD_TOO_LARGE")
        assert not Execution.objects.exists()

    def test_another_users_workflow_is_404(self, auth_client):
        workflow = WorkflowFactory()
        error(execute(auth_client, workflow), 404, "NOT_FOUND")
        assert not Execution.objects.exists()

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/workflows/not-a-uuid/execute",
            "/api/v1/workflows/00000000-0000-0000-0000-000000000000/execute",
            "/api/v1/test/execute/nope",
        ],
    )
    def test_bad_or_unknown_workflow_ids_are_404(self, auth_client, url):
        error(auth_client.post(url, {}, format="json"), 404, "NOT_FOUND")

    def test_shared_viewer_cannot_execute_but_operator_can(self, make_user):
        workflow = WorkflowFactory()
        viewer, operator = make_user(), make_user()
        share(workflow, viewer, WorkflowShare.Role.VIEWER)
        share(workflow, operator, WorkflowShare.Role.OPERATOR)
        body = error(execute(client_for(viewer), workflow), 403, "FORBIDDEN")
        assert "workflow:execute" in body["message"]
        response = execute(client_for(operator), workflow)
        assert response.status_code == 202
        execution = Execution.objects.get(pk=response.json()["execution_id"])
        assert execution.owner == workflow.owner  # the owner's credentials and limits
        assert execution.triggered_by == operator

    def test_role_without_execute_is_403(self, make_user):
        viewer = make_user(role="viewer")
        workflow = WorkflowFactory(owner=viewer)
        error(execute(client_for(viewer), workflow), 403, "FORBIDDEN")

    def test_api_key_without_the_execute_scope_is_403(self, user, api_client):
        workflow = WorkflowFactory(owner=user)
        _, raw = api_key_create(user=user, granted=user.api_permissions, name="ro", scopes=["workflow:read"])
        api_client.credentials(HTTP_X_API_KEY=raw)
        error(execute(api_client, workflow), 403, "FORBIDDEN")

    def test_anonymous_is_401(self, api_client):
        workflow = WorkflowFactory()
        error(execute(api_client, workflow), 401, "UNAUTHORIZED")

    def test_test_execute_needs_execute_on_the_workflow(self, make_user):
        workflow = WorkflowFactory()
        viewer, stranger = make_user(), make_user()
        share(workflow, viewer)
        url = f"/api/v1/test/execute/{workflow.pk}"
        error(client_for(viewer).post(url, {"trigger_data": {}}, format="json"), 403, "FORBIDDEN")
        error(client_for(stranger).post(url, {"trigger_data": {}}, format="json"), 404, "NOT_FOUND")

    def test_test_execute_bad_body(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = auth_client.post(f"/api/v1/test/execute/{workflow.pk}", [1], format="json")
        error(response, 400, "VALIDATION_ERROR")


# --- lists ----------------------------------------------------------------------------------


@pytest.mark.django_db
class TestList:
    URL = "/api/v1/executions"

    def test_only_runs_of_visible_workflows(self, auth_client, user, make_user):
        mine = ExecutionFactory(workflow=WorkflowFactory(owner=user))
        shared_workflow = WorkflowFactory()
        share(shared_workflow, user)
        shared = ExecutionFactory(workflow=shared_workflow)
        ExecutionFactory()  # someone else's
        body = auth_client.get(self.URL).json()
        assert {item["id"] for item in body["items"]} == {str(mine.pk), str(shared.pk)}

    def test_item_shape_and_pagination(self, auth_client, user):
        workflow = WorkflowFactory(owner=user, name="Nightly")
        started = timezone.now() - timedelta(seconds=3)
        parent = ExecutionFactory(workflow=workflow)
        for i in range(4):
            ExecutionFactory(
                workflow=workflow,
                started_at=started,
                completed_at=started + timedelta(seconds=1.5),
                parent=parent if i == 0 else None,
                retry_of=parent if i == 1 else None,
            )
        response = auth_client.get(self.URL, {"size": 2, "page": 2})
        assert response.status_code == 200
        body = response.json()
        assert {k: body[k] for k in ("total", "page", "size", "pages")} == {
            "total": 5,
            "page": 2,
            "size": 2,
            "pages": 3,
        }
        assert len(body["items"]) == 2
        item = auth_client.get(self.URL, {"size": 100}).json()["items"][-1]  # the oldest: parent
        assert set(item) == {
            "id",
            "workflow_id",
            "workflow_name",
            "workflow_version",
            "status",
            "mode",
            "trigger",
            "progress",
            "current_step",
            "started_at",
            "completed_at",
            "duration",
            "created_at",
            "parent_id",
            "retry_of_id",
        }
        assert item["id"] == str(parent.pk)
        assert item["workflow_name"] == "Nightly"
        assert item["workflow_version"] == 1
        assert item["duration"] is None
        items = auth_client.get(self.URL, {"size": 100}).json()["items"]
        assert [i["duration"] for i in items[:4]] == [1.5] * 4
        assert {i["parent_id"] for i in items} == {None, str(parent.pk)}
        assert {i["retry_of_id"] for i in items} == {None, str(parent.pk)}

    def test_filters(self, auth_client, user):
        workflow, other = WorkflowFactory(owner=user), WorkflowFactory(owner=user)
        failed = ExecutionFactory(workflow=workflow, status=Execution.Status.FAILED)
        ok = ExecutionFactory(workflow=workflow, status=Execution.Status.COMPLETED, trigger=Execution.Trigger.WEBHOOK)
        dry = ExecutionFactory(workflow=other, mode=Execution.Mode.DRY_RUN, trigger=Execution.Trigger.TEST)
        child = ExecutionFactory(workflow=other, parent=ok, trigger=Execution.Trigger.SUB_WORKFLOW)
        old = ExecutionFactory(workflow=other)
        Execution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))

        def ids(**params) -> set[str]:
            response = auth_client.get(self.URL, params)
            assert response.status_code == 200, response.content
            return {item["id"] for item in response.json()["items"]}

        assert ids(status="failed") == {str(failed.pk)}
        assert ids(status=["failed", "completed"]) == {str(e.pk) for e in (failed, ok, dry, child, old)}
        assert ids(status="succeeded") == ids(status="completed") != set()  # the pre-rename word is an alias
        assert ids(workflow=str(workflow.pk)) == {str(failed.pk), str(ok.pk)}
        assert ids(trigger="webhook") == {str(ok.pk)}
        assert ids(mode="dry_run") == {str(dry.pk)}
        assert ids(parent=str(ok.pk)) == {str(child.pk)}
        assert ids(top_level="false") == {str(child.pk)}
        assert str(child.pk) not in ids(top_level="true")
        day_ago = (timezone.now() - timedelta(days=1)).isoformat()
        assert ids(started_before=day_ago) == {str(old.pk)}
        assert str(old.pk) not in ids(started_after=day_ago)
        assert len(ids(started_after=day_ago)) == 4

    def test_ordering(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        runs = [ExecutionFactory(workflow=workflow) for _ in range(3)]
        now = timezone.now()
        for offset, run in enumerate(runs):
            Execution.objects.filter(pk=run.pk).update(created_at=now - timedelta(minutes=offset))
        newest_first = [item["id"] for item in auth_client.get(self.URL).json()["items"]]
        assert newest_first == [str(r.pk) for r in runs]
        oldest_first = [item["id"] for item in auth_client.get(self.URL, {"ordering": "created_at"}).json()["items"]]
        assert oldest_first == newest_first[::-1]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"started_after": "yesterday"}, "started_after"),
            ({"started_before": "2024-13-45T00:00:00Z"}, "started_before"),
            ({"status": "exploded"}, "status"),
            ({"workflow": "not-a-uuid"}, "workflow"),
            ({"parent": "x"}, "parent"),
            ({"mode": "sync"}, "mode"),
            ({"trigger": "magic"}, "trigger"),
            ({"top_level": "maybe"}, "top_level"),
            ({"page": "0"}, "page"),
        ],
    )
    def test_bad_filters_are_400_with_the_field(self, auth_client, params, field):
        response = auth_client.get(self.URL, params)
        error(response, 400, "VALIDATION_ERROR")
        assert fields(response) == {field}

    def test_same_number_of_queries_for_2_and_12_runs(self, auth_client, user):
        workflows = [WorkflowFactory(owner=user) for _ in range(3)]
        for i in range(2):
            ExecutionFactory(workflow=workflows[i % 3], triggered_by=user)

        def count() -> tuple[int, int]:
            with CaptureQueriesContext(connection) as queries:
                response = auth_client.get(self.URL, {"size": 100})
            assert response.status_code == 200
            return len(queries), len(response.json()["items"])

        few, n_few = count()
        for i in range(10):
            parent = ExecutionFactory(workflow=workflows[i % 3], triggered_by=user)
            if i % 2:
                ExecutionFactory(workflow=workflows[i % 3], parent=parent, retry_of=parent)
        many, n_many = count()
        assert (n_few, n_many) == (2, 17)
        assert few == many

    def test_workflow_runs_and_its_alias(self, auth_client, user):
        workflow, other = WorkflowFactory(owner=user), WorkflowFactory(owner=user)
        runs = {str(ExecutionFactory(workflow=workflow).pk) for _ in range(2)}
        ExecutionFactory(workflow=other)
        for suffix in ("executions", "runs"):
            response = auth_client.get(f"/api/v1/workflows/{workflow.pk}/{suffix}", {"status": "completed"})
            assert response.status_code == 200, response.content
            assert {item["id"] for item in response.json()["items"]} == runs
            assert response.json()["total"] == 2

    def test_workflow_runs_of_an_invisible_workflow_are_404(self, auth_client):
        workflow = WorkflowFactory()
        ExecutionFactory(workflow=workflow)
        error(auth_client.get(f"/api/v1/workflows/{workflow.pk}/runs"), 404, "NOT_FOUND")
        error(auth_client.get("/api/v1/workflows/nope/executions"), 404, "NOT_FOUND")

    def test_workflow_runs_query_count_is_constant(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        url = f"/api/v1/workflows/{workflow.pk}/executions"
        ExecutionFactory(workflow=workflow)
        with CaptureQueriesContext(connection) as few:
            auth_client.get(url)
        for _ in range(8):
            ExecutionFactory(workflow=workflow)
        with CaptureQueriesContext(connection) as many:
            assert len(auth_client.get(url).json()["items"]) == 9
        assert len(few) == len(many)


# --- detail and logs ---------------------------------------------------------------------------


@pytest.mark.django_db
class TestDetail:
    def test_detail_shape_and_steps_in_definition_order(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        execution = ExecutionFactory(
            workflow=workflow, triggered_by=user, input_data={"n": 2}, output_data={"result": 4}, idempotency_key="k1"
        )
        # Created in reverse: the answer follows the definition, not row ids.
        for node_id, node_type in [("out", "output"), ("double", "transform"), ("start", "trigger.manual")]:
            StepRun.objects.create(
                execution=execution, node_id=node_id, node_type=node_type, status="completed", attempt=1, output=1
            )
        response = auth_client.get(f"/api/v1/executions/{execution.pk}")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["input_data"] == {"n": 2}
        assert body["output_data"] == {"result": 4}
        assert body["error"] is None
        assert body["idempotency_key"] == "k1"
        assert body["triggered_by"] == user.email
        assert body["workflow_version"] == 1
        assert [s["node_id"] for s in body["steps"]] == ["start", "double", "out"]
        assert set(body["steps"][0]) == {
            "node_id",
            "node_type",
            "status",
            "attempt",
            "started_at",
            "completed_at",
            "output",
            "error",
        }

    def test_triggered_by_may_be_null(self, auth_client, user):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user))
        assert auth_client.get(f"/api/v1/executions/{execution.pk}").json()["triggered_by"] is None

    @pytest.mark.parametrize("suffix", ["", "/logs"])
    def test_another_users_run_is_404(self, auth_client, suffix):
        execution = ExecutionFactory()
        error(auth_client.get(f"/api/v1/executions/{execution.pk}{suffix}"), 404, "NOT_FOUND")

    @pytest.mark.parametrize(
        "url",
        [
            "/api/v1/executions/not-a-uuid",
            "/api/v1/executions/00000000-0000-0000-0000-000000000000",
            "/api/v1/executions/12345/logs",
            "/api/v1/executions/------------------------------------",
        ],
    )
    def test_bad_ids_are_404(self, auth_client, url):
        error(auth_client.get(url), 404, "NOT_FOUND")

    def test_shared_viewer_can_list_and_read(self, make_user):
        execution = ExecutionFactory()
        viewer = make_user()
        share(execution.workflow, viewer)
        client = client_for(viewer)
        assert client.get("/api/v1/executions").json()["total"] == 1
        assert client.get(f"/api/v1/executions/{execution.pk}").status_code == 200
        assert client.get(f"/api/v1/executions/{execution.pk}/logs").status_code == 200
        assert client.get(f"/api/v1/workflows/{execution.workflow_id}/runs").json()["total"] == 1

    def test_role_without_execution_read_is_403(self, user, api_client):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user))
        _, raw = api_key_create(user=user, granted=user.api_permissions, name="wf", scopes=["workflow:read"])
        api_client.credentials(HTTP_X_API_KEY=raw)
        error(api_client.get("/api/v1/executions"), 403, "FORBIDDEN")
        error(api_client.get(f"/api/v1/executions/{execution.pk}"), 403, "FORBIDDEN")
        error(api_client.get(f"/api/v1/workflows/{execution.workflow_id}/runs"), 403, "FORBIDDEN")


@pytest.mark.django_db
class TestLogs:
    def test_logs_paginated_in_order_with_filters(self, auth_client, user):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user))
        levels = ["info", "debug", "warning", "error", "info"]
        for i, level in enumerate(levels):
            ExecutionLog.objects.create(
                execution=execution, level=level, message=f"line {i}", node_id="double" if i % 2 else "", data={"i": i}
            )
        ExecutionLog.objects.create(execution=ExecutionFactory(workflow=execution.workflow), message="another run")
        url = f"/api/v1/executions/{execution.pk}/logs"
        body = auth_client.get(url, {"size": 2}).json()
        assert {k: body[k] for k in ("total", "page", "size", "pages")} == {
            "total": 5,
            "page": 1,
            "size": 2,
            "pages": 3,
        }
        assert [item["message"] for item in body["items"]] == ["line 0", "line 1"]
        assert set(body["items"][0]) == {"id", "node_id", "level", "message", "data", "created_at"}
        assert body["items"][1]["data"] == {"i": 1}
        infos = auth_client.get(url, {"level": "info"}).json()["items"]
        assert [item["message"] for item in infos] == ["line 0", "line 4"]
        steps = auth_client.get(url, {"node_id": "double"}).json()["items"]
        assert [item["message"] for item in steps] == ["line 1", "line 3"]

    def test_bad_level(self, auth_client, user):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user))
        response = auth_client.get(f"/api/v1/executions/{execution.pk}/logs", {"level": "loud"})
        error(response, 400, "VALIDATION_ERROR")
        assert fields(response) == {"level"}

    def test_logs_need_log_read(self, user, api_client):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user))
        _, raw = api_key_create(user=user, granted=user.api_permissions, name="ro", scopes=["execution:read"])
        api_client.credentials(HTTP_X_API_KEY=raw)
        assert api_client.get(f"/api/v1/executions/{execution.pk}").status_code == 200
        error(api_client.get(f"/api/v1/executions/{execution.pk}/logs"), 403, "FORBIDDEN")


# --- actions without running anything ------------------------------------------------------------


@pytest.mark.django_db
class TestActionRules:
    def test_cancel_a_finished_run_is_409(self, auth_client, user):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user), status=Execution.Status.COMPLETED)
        error(auth_client.post(f"/api/v1/executions/{execution.pk}/cancel"), 409, "CONFLICT", "EXECUTION_FINISHED")

    def test_retry_of_a_succeeded_run_is_409(self, auth_client, user):
        execution = ExecutionFactory(workflow=WorkflowFactory(owner=user), status=Execution.Status.COMPLETED)
        error(auth_client.post(f"/api/v1/executions/{execution.pk}/retry"), 409, "CONFLICT", "EXECUTION_NOT_RETRYABLE")
        assert Execution.objects.count() == 1

    @pytest.mark.parametrize("action", ["cancel", "retry", "rerun"])
    def test_shared_viewer_may_not_act(self, make_user, action):
        execution = ExecutionFactory(status=Execution.Status.FAILED)
        viewer = make_user()
        share(execution.workflow, viewer)
        error(client_for(viewer).post(f"/api/v1/executions/{execution.pk}/{action}"), 403, "FORBIDDEN")
        error(client_for(make_user()).post(f"/api/v1/executions/{execution.pk}/{action}"), 404, "NOT_FOUND")
        assert Execution.objects.count() == 1

    def test_operator_role_may_cancel_but_viewer_role_may_not(self, make_user):
        workflow = WorkflowFactory()
        operator, viewer = make_user(role="operator"), make_user(role="viewer")
        share(workflow, operator, WorkflowShare.Role.OPERATOR)
        share(workflow, viewer, WorkflowShare.Role.OPERATOR)  # the share allows it, the role does not
        execution = ExecutionFactory(workflow=workflow, status=Execution.Status.QUEUED)
        steps_for(execution, start=StepRun.Status.PENDING, double=StepRun.Status.PENDING, out=StepRun.Status.PENDING)
        error(client_for(viewer).post(f"/api/v1/executions/{execution.pk}/cancel"), 403, "FORBIDDEN")
        response = client_for(operator).post(f"/api/v1/executions/{execution.pk}/cancel")
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "cancelled"

    def test_rerun_starts_a_fresh_run_with_the_same_input(self, auth_client, user):
        execution = ExecutionFactory(
            workflow=WorkflowFactory(owner=user), input_data={"n": 5}, webhook_url="https://hooks.example.com/done"
        )
        response = auth_client.post(f"/api/v1/executions/{execution.pk}/rerun")
        assert response.status_code == 202, response.content
        rerun = Execution.objects.get(pk=response.json()["execution_id"])
        assert rerun.pk != execution.pk
        assert rerun.input_data == {"n": 5}
        assert rerun.trigger == Execution.Trigger.RERUN
        assert rerun.webhook_url == "https://hooks.example.com/done"  # the caller still wants to hear of it

    def test_approval_rules(self, auth_client, user, make_user):
        workflow = WorkflowFactory(owner=user, definition=approval_definition(approvers=["boss@example.com"]))
        execution = ExecutionFactory(workflow=workflow, status=Execution.Status.WAITING)
        steps_for(execution, ask=StepRun.Status.WAITING, yes=StepRun.Status.PENDING, no=StepRun.Status.PENDING)
        StepRun.objects.filter(execution=execution, node_id="ask").update(state={"approvers": ["boss@example.com"]})
        url = f"/api/v1/executions/{execution.pk}/steps"
        # The owner is not among this step's approvers.
        error(auth_client.post(f"{url}/ask/approve", {}, format="json"), 403, "FORBIDDEN", "NOT_AN_APPROVER")
        error(auth_client.post(f"{url}/nowhere/approve", {}, format="json"), 404, "NOT_FOUND")
        error(auth_client.post(f"{url}/yes/reject", {}, format="json"), 404, "NOT_FOUND")  # not an approval
        response = auth_client.post(f"{url}/ask/approve", {"comment": "x" * 2001}, format="json")
        error(response, 400, "VALIDATION_ERROR")
        assert fields(response) == {"comment"}
        StepRun.objects.filter(execution=execution, node_id="ask").update(status=StepRun.Status.COMPLETED)
        boss = make_user(email="boss@example.com")
        share(workflow, boss)
        error(client_for(boss).post(f"{url}/ask/approve", {}, format="json"), 409, "CONFLICT", "APPROVAL_NOT_WAITING")
        error(client_for(make_user()).post(f"{url}/ask/approve", {}, format="json"), 404, "NOT_FOUND")


# --- runs that really execute ---------------------------------------------------------------------


@LIVE
class TestRunning:
    def test_execute_async_then_read_the_result(self, celery_worker, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, {"input_data": {"n": 21}})
        assert response.status_code == 202, response.content
        execution_id = response.json()["execution_id"]
        wait_finished(execution_id)
        body = auth_client.get(f"/api/v1/executions/{execution_id}").json()
        assert body["status"] == "completed"
        assert body["output_data"] == {"result": 42}
        assert body["progress"] == 100
        assert body["duration"] is not None
        assert [(s["node_id"], s["status"], s["attempt"]) for s in body["steps"]] == [
            ("start", "completed", 1),
            ("double", "completed", 1),
            ("out", "completed", 1),
        ]
        assert body["steps"][1]["output"] == 42
        logs = auth_client.get(f"/api/v1/executions/{execution_id}/logs").json()
        assert logs["total"] >= 2
        assert auth_client.get(f"/api/v1/executions/{execution_id}/logs", {"level": "error"}).json()["total"] == 0

    def test_execute_sync_answers_the_result(self, celery_worker, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        response = execute(auth_client, workflow, {"input_data": {"n": 4}, "mode": "sync"})
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "completed"
        assert body["output_data"] == {"result": 8}
        assert [s["node_id"] for s in body["steps"]] == ["start", "double", "out"]

    def test_cancel_a_waiting_run(self, celery_worker, auth_client, user):
        definition = linear(
            node("start", "trigger.manual"), node("wait", "delay", seconds=600), node("out", "output", value=1)
        )
        workflow = WorkflowFactory(owner=user, definition=definition)
        execution_id = execute(auth_client, workflow).json()["execution_id"]
        wait_status(execution_id, Execution.Status.WAITING)
        response = auth_client.post(f"/api/v1/executions/{execution_id}/cancel")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "cancelled"
        assert {s["node_id"]: s["status"] for s in body["steps"]} == {
            "start": "completed",
            "wait": "cancelled",
            "out": "cancelled",
        }
        error(auth_client.post(f"/api/v1/executions/{execution_id}/cancel"), 409, "CONFLICT", "EXECUTION_FINISHED")

    def test_retry_reuses_what_succeeded(self, celery_worker, auth_client, user):
        # The flaky step fails in runs started before `cutoff` and passes after it: the retry passes.
        cutoff = (timezone.now() + timedelta(seconds=2)).isoformat()
        definition = linear(
            node("start", "trigger.manual"),
            node("double", "transform", value="{{ input.n * 2 }}"),
            node(
                "flaky",
                "test.flaky",
                retryable=False,
                fail_times=f"{{{{ 1 if execution.started_at < '{cutoff}' else 0 }}}}",
                value="{{ steps.double.output }}",
            ),
            node("out", "output", value={"result": "{{ steps.flaky.output.value }}"}),
        )
        workflow = WorkflowFactory(owner=user, definition=definition)
        execution_id = execute(auth_client, workflow, {"input_data": {"n": 21}}).json()["execution_id"]
        failed = wait_finished(execution_id)
        assert failed.status == Execution.Status.FAILED, failed.error
        first = {s.node_id: s for s in StepRun.objects.filter(execution_id=execution_id)}
        assert first["flaky"].status == StepRun.Status.FAILED

        time.sleep(max(0.0, (datetime.fromisoformat(cutoff) - timezone.now()).total_seconds()) + 0.05)
        response = auth_client.post(f"/api/v1/executions/{execution_id}/retry")
        assert response.status_code == 202, response.content
        retry_id = response.json()["execution_id"]
        assert retry_id != execution_id
        retried = wait_finished(retry_id)
        assert retried.status == Execution.Status.COMPLETED, retried.error
        assert retried.output_data == {"result": 42}
        assert retried.retry_of_id == failed.pk
        assert retried.trigger == Execution.Trigger.RETRY
        detail = auth_client.get(f"/api/v1/executions/{retry_id}").json()
        assert detail["retry_of_id"] == execution_id
        steps = {s["node_id"]: s for s in detail["steps"]}
        for reused in ("start", "double"):
            assert steps[reused]["started_at"] == first[reused].started_at.isoformat().replace("+00:00", "Z")
        assert steps["flaky"]["status"] == "completed"
        error(auth_client.post(f"/api/v1/executions/{retry_id}/retry"), 409, "CONFLICT", "EXECUTION_NOT_RETRYABLE")

    def test_rerun_runs_again_from_scratch(self, celery_worker, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        execution_id = execute(auth_client, workflow, {"input_data": {"n": 1}, "mode": "sync"}).json()["id"]
        response = auth_client.post(f"/api/v1/executions/{execution_id}/rerun")
        assert response.status_code == 202, response.content
        rerun = wait_finished(response.json()["execution_id"])
        assert rerun.status == Execution.Status.COMPLETED
        assert rerun.output_data == {"result": 2}
        first_start = StepRun.objects.get(execution_id=execution_id, node_id="start").started_at
        assert StepRun.objects.get(execution=rerun, node_id="start").started_at > first_start

    @pytest.mark.parametrize(
        ("decision", "taken", "output"), [("approve", "yes", "shipped"), ("reject", "no", "not shipped")]
    )
    def test_approve_and_reject(self, celery_worker, auth_client, user, make_user, decision, taken, output):
        workflow = WorkflowFactory(owner=user, definition=approval_definition())
        execution_id = execute(auth_client, workflow).json()["execution_id"]
        wait_status(execution_id, Execution.Status.WAITING)
        operator = make_user()
        share(workflow, operator, WorkflowShare.Role.OPERATOR)
        url = f"/api/v1/executions/{execution_id}/steps/ask/{decision}"
        # Without approvers only the owner decides.
        error(client_for(operator).post(url, {}, format="json"), 403, "FORBIDDEN", "NOT_AN_APPROVER")
        response = auth_client.post(url, {"comment": "looked fine"}, format="json")
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "completed"
        assert body["output_data"] == {taken: output}
        ask = next(s for s in body["steps"] if s["node_id"] == "ask")
        assert ask["output"] == {"approved": decision == "approve", "by": user.email, "comment": "looked fine"}
        error(auth_client.post(url, {}, format="json"), 409, "CONFLICT", "APPROVAL_NOT_WAITING")

    def test_a_named_approver_who_only_views_the_workflow_decides(self, celery_worker, auth_client, user, make_user):
        boss = make_user(role="viewer")
        workflow = WorkflowFactory(owner=user, definition=approval_definition(approvers=[boss.email]))
        share(workflow, boss)
        execution_id = execute(auth_client, workflow).json()["execution_id"]
        wait_status(execution_id, Execution.Status.WAITING)
        response = client_for(boss).post(f"/api/v1/executions/{execution_id}/steps/ask/approve")
        assert response.status_code == 200, response.content
        assert response.json()["output_data"] == {"yes": "shipped"}

    def test_dry_run_through_test_execute(self, celery_worker, auth_client, user):
        definition = linear(
            node("start", "trigger.manual"),
            node("ask", "approval", message="Ship {{ input.what }}?"),
            node("wait", "delay", seconds=600),
            node("out", "output", value={"approved": "{{ steps.ask.output.approved }}", "what": "{{ input.what }}"}),
        )
        definition["edges"][1]["source_port"] = "approved"
        workflow = WorkflowFactory(owner=user, definition=definition)
        response = auth_client.post(
            f"/api/v1/test/execute/{workflow.pk}", {"trigger_data": {"what": "v2"}}, format="json"
        )
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["status"] == "completed"
        assert body["mode"] == "dry_run"
        assert body["trigger"] == "test"
        assert body["input_data"] == {"what": "v2"}
        assert body["output_data"] == {"approved": True, "what": "v2"}
        steps = {s["node_id"]: s for s in body["steps"]}
        assert steps["ask"]["output"]["simulated"] is True
        assert steps["wait"]["output"] == {"waited_seconds": 0, "simulated": True, "would_wait_seconds": 600.0}
        assert Execution.objects.get(pk=body["id"]).triggered_by == user


def test_version_pinned_by_a_run_is_reported(db, user, auth_client):
    """A run reports the version it ran, not the workflow's current one."""
    workflow = WorkflowFactory(owner=user)
    execution = ExecutionFactory(workflow=workflow)
    WorkflowVersion.objects.create(workflow=workflow, number=2, definition=simple_definition(), author=user)
    workflow.version = 2
    workflow.save(update_fields=["version"])
    assert auth_client.get(f"/api/v1/executions/{execution.pk}").json()["workflow_version"] == 1
    newer = ExecutionFactory(workflow=workflow)
    assert auth_client.get(f"/api/v1/executions/{newer.pk}").json()["workflow_version"] == 2
