"""The small things a seed's client trips on: UTC timestamps, counts that include child runs, imports as exported."""

from __future__ import annotations

import pytest

from tests.engine_fixtures import wait_finished
from tests.workflows.helpers import linear, node, simple_definition
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def test_next_run_at_is_utc_with_z(auth_client):
    definition = linear(node("tick", "trigger.schedule", cron="0 9 * * *", timezone="Australia/Sydney"))
    created = auth_client.post(f"{BASE}/workflows", {"name": "s", "definition": definition}, format="json")
    assert created.status_code == 201, created.content
    trigger = created.json()["trigger"]
    assert trigger["timezone"] == "Australia/Sydney"
    assert trigger["next_run_at"].endswith("Z")
    assert trigger["next_run_at"][11:13] in ("22", "23")  # 09:00 in Sydney is 22:00 or 23:00 UTC
    for key in ("created_at", "updated_at"):
        assert created.json()[key].endswith("Z")


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_workflows_counts_include_runs_its_parents_started(auth_client, user, celery_worker):
    child = workflow_create(owner=user, name="child", definition=simple_definition())
    parent = workflow_create(
        owner=user,
        name="parent",
        definition=linear(
            node("start", "trigger.manual"), node("sub", "sub_workflow", workflow_id=str(child.pk), input={"n": 1})
        ),
    )
    run = auth_client.post(f"{BASE}/workflows/{parent.pk}/execute", {"input_data": {}}, format="json")
    assert wait_finished(run.json()["execution_id"]).status == "completed"
    detail = auth_client.get(f"{BASE}/workflows/{child.pk}").json()
    assert detail["execution_count"] == 1
    assert (detail["execution_stats"]["total_executions"], detail["execution_stats"]["successful_executions"]) == (1, 1)
    listed = {w["name"]: w["execution_count"] for w in auth_client.get(f"{BASE}/workflows").json()["items"]}
    assert listed == {"child": 1, "parent": 1}


def test_import_takes_an_export_as_it_comes(auth_client, user):
    original = workflow_create(owner=user, name="exported", definition=simple_definition())
    exported = auth_client.get(f"{BASE}/workflows/{original.pk}/export").json()
    unwrapped = auth_client.post(f"{BASE}/workflows/import", exported, format="json")
    assert unwrapped.status_code == 201, unwrapped.content
    assert unwrapped.json()["name"] == "exported"
    assert unwrapped.json()["definition"] == original.definition
    wrapped = auth_client.post(f"{BASE}/workflows/import", {"data": exported, "name": "again"}, format="json")
    assert (wrapped.status_code, wrapped.json()["name"]) == (201, "again")
