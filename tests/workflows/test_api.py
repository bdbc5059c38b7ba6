"""The workflows API through the real URL conf: CRUD, versions, sharing, validate, import/export, catalog."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.clients import client_for
from tests.factories import ExecutionFactory
from tests.workflows.helpers import edge, linear, node, simple_definition
from workflows.models import Workflow, WorkflowShare, WorkflowVersion

pytestmark = pytest.mark.django_db

URL = "/api/v1/workflows"


def create(client, **overrides):
    payload = {
        "name": "Double it",
        "description": "Doubles n",
        "category": "demo",
        "tags": ["Math", "demo"],
        "definition": simple_definition(),
    }
    payload.update(overrides)
    return client.post(URL, payload, format="json")


def fields(response) -> set[str | None]:
    return {d["field"] for d in response.json()["error"]["details"]}


class TestCrud:
    def test_create_and_read(self, auth_client, user):
        response = create(auth_client)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["version"] == 1
        assert body["tags"] == ["demo", "math"]
        assert body["created_by"] == str(user.pk)
        assert body["trigger"] == {"type": "manual"}
        assert body["execution_stats"] == {
            "total_executions": 0,
            "successful_executions": 0,
            "failed_executions": 0,
            "average_duration": None,
        }
        assert body["warnings"] == []
        assert "workflow:delete" in body["permissions"]
        detail = auth_client.get(f"{URL}/{body['id']}").json()
        assert detail["definition"] == simple_definition()
        assert WorkflowVersion.objects.get(workflow_id=body["id"]).number == 1

    def test_invalid_definition_saves_nothing(self, auth_client):
        bad = linear(node("start", "trigger.manual"), node("a", "htp"))
        response = create(auth_client, definition=bad)
        assert response.status_code == 400
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert fields(response) == {"definition.nodes[1].type"}
        assert not Workflow.objects.exists()

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"name": ""}, "name"),
            ({"name": "x" * 201}, "name"),
            ({"tags": "demo"}, "tags"),
            ({"tags": ["x" * 51]}, "tags[0]"),
            ({"is_active": "maybe"}, "is_active"),
            ({"definition": None}, "definition"),
        ],
    )
    def test_bad_fields(self, auth_client, payload, field):
        response = create(auth_client, **payload)
        assert response.status_code == 400, response.content
        assert field in fields(response)
        assert not Workflow.objects.exists()

    def test_600_nodes(self, auth_client):
        big = linear(node("start", "trigger.manual"), *[node(f"n{i}", "transform", value=i) for i in range(599)])
        response = create(auth_client, definition=big)
        assert response.status_code == 400
        assert "at most 500" in response.json()["error"]["details"][0]["message"]

    def test_2_mb_definition_is_413(self, auth_client):
        huge = linear(node("start", "trigger.manual"), node("a", "transform", value="x" * (2 * 1024 * 1024)))
        response = create(auth_client, definition=huge)
        assert response.status_code == 413
        assert not Workflow.objects.exists()

    def test_update_makes_versions_and_locks_optimistically(self, auth_client):
        workflow_id = create(auth_client).json()["id"]
        changed = simple_definition()
        changed["nodes"][1]["config"]["value"] = "{{ input.n * 3 }}"
        updated = auth_client.patch(f"{URL}/{workflow_id}", {"definition": changed, "version": 1}, format="json")
        assert updated.status_code == 200, updated.content
        assert updated.json()["version"] == 2
        stale = auth_client.patch(
            f"{URL}/{workflow_id}", {"name": "Mine", "definition": simple_definition(), "version": 1}, format="json"
        )
        assert stale.status_code == 409
        assert (stale.json()["error"]["code"], stale.json()["error"]["reason"]) == (
            "CONFLICT",
            "WORKFLOW_VERSION_STALE",
        )
        assert Workflow.objects.get().name == "Double it"
        # Metadata alone does not make a version; an identical definition neither.
        renamed = auth_client.patch(f"{URL}/{workflow_id}", {"name": "Triple it", "definition": changed}, format="json")
        assert renamed.json()["version"] == 2
        assert renamed.json()["name"] == "Triple it"

    def test_put_requires_the_whole_resource(self, auth_client):
        workflow_id = create(auth_client).json()["id"]
        response = auth_client.put(f"{URL}/{workflow_id}", {"name": "Only a name"}, format="json")
        assert response.status_code == 400
        assert fields(response) == {"definition"}

    def test_invalid_update_changes_nothing(self, auth_client):
        workflow_id = create(auth_client).json()["id"]
        bad = linear(node("start", "trigger.manual"), node("a", "condition"))
        response = auth_client.patch(f"{URL}/{workflow_id}", {"name": "Renamed", "definition": bad}, format="json")
        assert response.status_code == 400
        workflow = Workflow.objects.get()
        assert (workflow.name, workflow.version) == ("Double it", 1)

    def test_delete(self, auth_client):
        workflow_id = create(auth_client).json()["id"]
        assert auth_client.delete(f"{URL}/{workflow_id}").status_code == 204
        assert auth_client.get(f"{URL}/{workflow_id}").status_code == 404
        assert not WorkflowVersion.objects.exists()


class TestVersions:
    def test_list_detail_restore(self, auth_client):
        workflow_id = create(auth_client).json()["id"]
        changed = simple_definition()
        changed["nodes"][1]["config"]["value"] = 42
        auth_client.patch(f"{URL}/{workflow_id}", {"definition": changed}, format="json")
        versions = auth_client.get(f"{URL}/{workflow_id}/versions").json()
        assert [v["number"] for v in versions["items"]] == [2, 1]
        first = auth_client.get(f"{URL}/{workflow_id}/versions/1").json()
        assert first["definition"] == simple_definition()
        restored = auth_client.post(f"{URL}/{workflow_id}/versions/1/restore")
        assert restored.status_code == 200
        assert restored.json()["version"] == 3
        assert restored.json()["definition"] == simple_definition()
        assert WorkflowVersion.objects.get(workflow_id=workflow_id, number=3).note == "Restored from version 1"
        assert auth_client.get(f"{URL}/{workflow_id}/versions/9").status_code == 404
        assert auth_client.post(f"{URL}/{workflow_id}/versions/9/restore").status_code == 404


class TestListing:
    @pytest.fixture
    def workflows(self, auth_client):
        create(auth_client, name="Alpha report", category="reports", tags=["daily"])
        create(auth_client, name="Beta sync", category="sync", tags=["hourly"], is_active=False)
        create(
            auth_client, name="Gamma", description="sends the daily report", category="reports", tags=["daily", "mail"]
        )

    def names(self, client, query=""):
        return sorted(item["name"] for item in client.get(f"{URL}{query}").json()["items"])

    def test_filters(self, auth_client, workflows):
        assert self.names(auth_client, "?category=reports") == ["Alpha report", "Gamma"]
        assert self.names(auth_client, "?is_active=false") == ["Beta sync"]
        assert self.names(auth_client, "?tag=Daily") == ["Alpha report", "Gamma"]
        assert self.names(auth_client, "?search=report") == ["Alpha report", "Gamma"]

    def test_ordering_and_pagination(self, auth_client, workflows):
        body = auth_client.get(f"{URL}?ordering=name&size=2").json()
        assert [i["name"] for i in body["items"]] == ["Alpha report", "Beta sync"]
        assert (body["total"], body["pages"]) == (3, 2)
        assert next(i["name"] for i in auth_client.get(f"{URL}?ordering=-name").json()["items"]) == "Gamma"

    def test_list_items_carry_run_counts_without_n_plus_one(self, auth_client, workflows, user):
        for workflow in Workflow.objects.all():
            ExecutionFactory.create_batch(2, workflow=workflow)
        with CaptureQueriesContext(connection) as few:
            auth_client.get(URL)
        for _ in range(5):
            create(auth_client, name="More")
        with CaptureQueriesContext(connection) as many:
            body = auth_client.get(URL).json()
        assert len(many) == len(few)
        counts = {item["name"]: item["execution_count"] for item in body["items"]}
        assert counts["Alpha report"] == 2
        assert counts["More"] == 0
        assert next(i for i in body["items"] if i["name"] == "Alpha report")["last_execution_at"] is not None


class TestAccess:
    def test_other_users_workflow_is_404(self, auth_client, make_user):
        workflow_id = create(auth_client).json()["id"]
        stranger = client_for(make_user())
        for method in ("get", "patch", "delete"):
            assert getattr(stranger, method)(f"{URL}/{workflow_id}", {}, format="json").status_code == 404
        assert stranger.get(f"{URL}/{workflow_id}/versions").status_code == 404
        assert stranger.get(f"{URL}/{workflow_id}/export").status_code == 404
        assert stranger.get(URL).json()["total"] == 0

    def test_sharing_roles(self, auth_client, make_user):
        workflow_id = create(auth_client).json()["id"]
        viewer, editor = make_user(), make_user()
        assert (
            auth_client.post(f"{URL}/{workflow_id}/shares", {"email": viewer.email}, format="json").status_code == 201
        )
        auth_client.post(f"{URL}/{workflow_id}/shares", {"email": editor.email, "role": "editor"}, format="json")
        as_viewer, as_editor = client_for(viewer), client_for(editor)
        listed = as_viewer.get(URL).json()["items"]
        assert [(i["id"], i["shared_role"]) for i in listed] == [(workflow_id, "viewer")]
        assert as_viewer.get(f"{URL}/{workflow_id}").json()["permissions"] == [
            "execution:approve",  # only steps naming them (approval_decide)
            "execution:read",
            "log:read",
            "workflow:read",
        ]
        assert as_viewer.patch(f"{URL}/{workflow_id}", {"name": "x"}, format="json").status_code == 403
        assert as_editor.patch(f"{URL}/{workflow_id}", {"name": "Edited"}, format="json").status_code == 200
        assert as_editor.delete(f"{URL}/{workflow_id}").status_code == 403
        assert (
            as_editor.post(
                f"{URL}/{workflow_id}/shares", {"email": viewer.email, "role": "editor"}, format="json"
            ).status_code
            == 403
        )
        shares = auth_client.get(f"{URL}/{workflow_id}/shares?size=1").json()  # a page, as the schema says
        assert {k: shares[k] for k in ("total", "page", "size", "pages")} == {
            "total": 2,
            "page": 1,
            "size": 1,
            "pages": 2,
        }
        assert [(s["email"], s["role"]) for s in shares["items"]] == [(viewer.email, "viewer")]
        assert auth_client.delete(f"{URL}/{workflow_id}/shares/{viewer.pk}").status_code == 204
        assert as_viewer.get(f"{URL}/{workflow_id}").status_code == 404

    def test_share_bad_input(self, auth_client, user):
        workflow_id = create(auth_client).json()["id"]
        unknown = auth_client.post(f"{URL}/{workflow_id}/shares", {"email": "ghost@example.com"}, format="json")
        assert unknown.status_code == 400
        assert fields(unknown) == {"email"}
        self_share = auth_client.post(f"{URL}/{workflow_id}/shares", {"email": user.email}, format="json")
        assert self_share.status_code == 400
        bad_role = auth_client.post(f"{URL}/{workflow_id}/shares", {"email": user.email, "role": "god"}, format="json")
        assert fields(bad_role) == {"role"}
        assert not WorkflowShare.objects.exists()

    def test_role_permissions_apply(self, make_user):
        viewer = client_for(make_user(role="viewer"))
        assert create(viewer).status_code == 403
        assert viewer.get(URL).status_code == 200

    def test_api_key_scopes_apply(self, auth_client):
        raw = auth_client.post("/api/v1/api-keys", {"name": "ro", "scopes": ["workflow:read"]}, format="json").json()[
            "key"
        ]
        workflow_id = create(auth_client).json()["id"]
        from rest_framework.test import APIClient

        keyed = APIClient()
        keyed.credentials(HTTP_X_API_KEY=raw)
        assert keyed.get(f"{URL}/{workflow_id}").status_code == 200
        assert keyed.delete(f"{URL}/{workflow_id}").status_code == 403
        assert create(keyed).status_code == 403


class TestValidateImportExport:
    def test_validate_reports_all_problems(self, auth_client):
        bad = linear(node("start", "trigger.manual"), node("a", "htp"), node("b", "condition"))
        bad["edges"].append(edge("b", "ghost"))
        body = auth_client.post(f"{URL}/validate", {"definition": bad}, format="json").json()
        assert body["valid"] is False
        assert {e["field"] for e in body["errors"]} >= {
            "definition.nodes[1].type",
            "definition.nodes[2].config.expression",
            "definition.edges[2].target",
        }
        good = auth_client.post(f"{URL}/validate", {"definition": simple_definition()}, format="json").json()
        assert good == {"valid": True, "errors": [], "warnings": [], "definition": simple_definition()}

    def test_export_then_import(self, auth_client):
        workflow_id = create(auth_client).json()["id"]
        exported = auth_client.get(f"{URL}/{workflow_id}/export")
        assert "attachment" in exported["Content-Disposition"]
        imported = auth_client.post(f"{URL}/import", {"data": exported.json()}, format="json")
        assert imported.status_code == 201, imported.content
        body = imported.json()
        assert body["id"] != workflow_id
        assert (body["name"], body["tags"], body["definition"]) == ("Double it", ["demo", "math"], simple_definition())

    def test_import_seed_workflow_object(self, auth_client):
        seed = {
            "name": "Blog Post Generator",
            "workflow_data": {
                "nodes": [
                    {"id": "input_1", "type": "input", "data": {"label": "Topic", "type": "text"}},
                    {
                        "id": "output_1",
                        "type": "output",
                        "data": {"label": "Generated Post", "value": "{{ input.topic }}"},
                    },
                ],
                "connections": [{"source": "input_1", "target": "output_1"}],
            },
            "category": "content",
            "tags": ["ai"],
        }
        response = auth_client.post(f"{URL}/import", {"data": seed}, format="json")
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["definition"]["nodes"][0]["type"] == "trigger.manual"
        assert body["category"] == "content"
        assert any("Dropped 'type'" in w["message"] for w in body["warnings"])

    def test_import_bad_input(self, auth_client):
        unknown = auth_client.post(f"{URL}/import", {"data": {"hello": "world"}}, format="json")
        assert unknown.status_code == 400
        assert fields(unknown) == {"data"}
        invalid = auth_client.post(f"{URL}/import", {"data": {"nodes": [{"id": "a", "type": "nope"}]}}, format="json")
        assert invalid.status_code == 400
        wrong_version = auth_client.post(
            f"{URL}/import", {"data": {"format": "flowbuilder.workflow", "format_version": 9}}, format="json"
        )
        assert fields(wrong_version) == {"format_version"}
        assert not Workflow.objects.exists()


def test_trigger_summary_for_schedules(auth_client):
    definition = linear(
        node("tick", "trigger.schedule", cron="0 9 * * 1-5", timezone="Europe/Paris"), node("a", "transform", value=1)
    )
    body = create(auth_client, definition=definition).json()
    trigger = body["trigger"]
    assert (trigger["type"], trigger["cron"], trigger["timezone"]) == ("schedule", "0 9 * * 1-5", "Europe/Paris")
    assert trigger["next_run_at"].endswith("Z")  # UTC (SPEC §2); 09:00 in Paris is 07:00 or 08:00
    assert trigger["next_run_at"][11:13] in ("07", "08")


def test_node_type_catalog(auth_client):
    catalog = auth_client.get("/api/v1/node-types").json()
    types = {t["type"]: t for t in catalog}
    assert {"trigger.manual", "http_request", "condition", "llm", "output", "approval"} <= set(types)
    assert types["condition"]["outputs"] == ["true", "false"]
    assert types["http_request"]["config_schema"]["properties"]["url"]
    assert "http" in types["http_request"]["aliases"]
    assert json.dumps(catalog)
    assert {t["category"] for t in auth_client.get("/api/v1/node-types?category=trigger").json()} == {"trigger"}
