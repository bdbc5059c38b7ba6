"""Odd bytes and odd types are 400s at the field, never 500s, and nothing is stored half-way (issue: hostile input)."""

from __future__ import annotations

import pytest

from executions.models import Execution
from tests.workflows.helpers import linear, node, simple_definition
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

NUL = "\u0000"


def fields(response) -> set[str | None]:
    return {d["field"] for d in response.json()["error"]["details"]}


def test_nul_in_a_definition_is_a_400_at_its_path(auth_client):
    definition = linear(node("start", "trigger.manual"), node("t", "transform", value={"text": f"a{NUL}b"}))
    response = auth_client.post("/api/v1/workflows", {"name": "x", "definition": definition}, format="json")
    assert response.status_code == 400, response.content
    assert fields(response) == {"definition.nodes[1].config.value.text"}
    assert "NUL" in response.json()["error"]["message"]
    assert not Workflow.objects.exists()


def test_nul_in_a_key_or_in_input_data_is_a_400(auth_client, user):
    from tests.factories import WorkflowFactory

    workflow = WorkflowFactory(owner=user, definition=simple_definition())
    url = f"/api/v1/workflows/{workflow.pk}/execute"
    for body, field in (
        ({"input_data": {"n": f"1{NUL}"}}, "input_data.n"),
        ({"input_data": {f"k{NUL}": 1}}, "input_data"),
    ):
        response = auth_client.post(url, body, format="json")
        assert response.status_code == 400, response.content
        assert fields(response) == {field}
    assert not Execution.objects.exists()


def test_nul_in_a_query_parameter_is_a_400(auth_client):
    response = auth_client.get(f"/api/v1/workflows?search=a{NUL}b")
    assert response.status_code == 400
    assert fields(response) == {"search"}
    assert auth_client.get(f"/api/v1/executions?status=completed{NUL}").status_code == 400


@pytest.mark.parametrize(
    "content",
    [
        {"content_type": "application/json", "data": '{"a": "x\\u0000y"}'},
        {"content_type": "application/x-www-form-urlencoded", "data": "a=x%00y"},
    ],
)
def test_nul_in_a_webhook_call_is_a_400_and_no_run(api_client, user, content):
    from workflows.services import workflow_create

    hook = workflow_create(owner=user, name="h", definition=linear(node("hook", "trigger.webhook", method="POST")))
    hook.refresh_from_db()
    response = api_client.post(f"/hooks/{hook.webhook_token}", **content)
    assert response.status_code == 400, response.content
    assert fields(response) == {"body.a"}
    query = api_client.post(f"/hooks/{hook.webhook_token}?q=x%00", {}, format="json")
    assert query.status_code == 400
    assert not Execution.objects.exists()


@pytest.mark.parametrize(
    ("definition", "field"),
    [
        ({"nodes": [{"id": {"$gt": ""}, "type": "trigger.manual"}], "edges": []}, "definition.nodes[0].id"),
        ({"nodes": [{"id": ["a"], "type": "trigger.manual"}], "edges": []}, "definition.nodes[0].id"),
        ({"nodes": [{"id": "a", "type": {"x": 1}}], "edges": []}, "definition.nodes[0].type"),
        (
            {"nodes": [{"id": "a", "type": "trigger.manual"}], "edges": [{"source": {"a": 1}, "target": "a"}]},
            "definition.edges[0].source",
        ),
        (
            {"steps": [{"id": {"x": 1}, "type": "transform", "depends_on": [{"y": 2}]}]},
            "definition.steps[0].id",
        ),
    ],
)
@pytest.mark.parametrize("url", ["/api/v1/workflows", "/api/v1/workflows/validate"])
def test_wrong_json_types_are_400s_at_their_path(auth_client, definition, field, url):
    response = auth_client.post(url, {"name": "x", "definition": definition}, format="json")
    if url.endswith("validate"):
        assert response.status_code == 200, response.content
        assert field in {e["field"] for e in response.json()["errors"]}
    else:
        assert response.status_code == 400, response.content
        assert field in fields(response)


def test_offsets_beyond_what_the_database_takes_are_understood(auth_client):
    """PostgreSQL refuses offsets past ±15:59; the API converts to UTC before asking it."""
    executions = auth_client.get("/api/v1/executions?started_after=2026-01-01T00:00:00-18:14")
    assert executions.status_code == 200, executions.content
    usage = auth_client.get("/api/v1/analytics/usage?from=2026-01-01T00:00:00-18:14&to=2026-01-03")
    assert usage.status_code == 200, usage.content
    assert usage.json()["from"] == "2026-01-01T18:14:00Z"


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/executions?started_before=0001-01-01T00:00:00%2B05:00",
        "/api/v1/executions?started_after=9999-12-31T23:00:00-05:00",
        "/api/v1/analytics/usage?from=0001-01-01T00:00:00%2B01:00",
        "/api/v1/audit?from=9999-12-31T23:59:59-05:00",
    ],
)
def test_times_the_database_cannot_hold_are_400s(auth_client, make_user, url):
    from tests.clients import client_for

    client = client_for(make_user(is_staff=True)) if "/audit" in url else auth_client
    response = client.get(url)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"][0]["field"] in ("started_after", "started_before", "from")


def test_a_null_run_input_sent_as_a_form_is_no_input(auth_client, user, settings):
    """A form field's "null" parsed to None once reached the database's NOT NULL column (a 500, found by fuzzing)."""
    from workflows.services import workflow_create

    settings.FLOWBUILDER_SYNC_WAIT_SECONDS = 0.2  # no worker here: the dry run is not waited for
    workflow = workflow_create(owner=user, name="w", definition=simple_definition())
    response = auth_client.post(f"/api/v1/test/execute/{workflow.pk}", {"trigger_data": "null"}, format="multipart")
    assert response.status_code in (200, 202), response.content
    assert Execution.objects.get().input_data == {}
