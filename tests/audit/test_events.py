"""Audit rows for every kind of event, written in the change's transaction, and never holding a secret."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from accounts.models import ApiKey, User
from audit.models import AuditEvent
from executions.models import Execution, StepRun
from tests.clients import client_for
from tests.console.helpers import form_data
from tests.factories import DEFAULT_PASSWORD, WorkflowFactory
from tests.workflows.helpers import edge, node, simple_definition
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

WORKFLOWS = "/api/v1/workflows"


def events(action: str | None = None, **filters) -> list[AuditEvent]:
    queryset = AuditEvent.objects.order_by("created_at")
    if action:
        queryset = queryset.filter(action=action)
    return list(queryset.filter(**filters))


def one(action: str, **filters) -> AuditEvent:
    found = events(action, **filters)
    assert len(found) == 1, [(e.action, e.object_repr) for e in events()]
    return found[0]


def all_audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


class TestApiChanges:
    def test_create_update_delete_of_a_workflow(self, auth_client, user):
        created = auth_client.post(
            WORKFLOWS,
            {"name": "Nightly", "definition": simple_definition(), "tags": ["ops"]},
            format="json",
            HTTP_USER_AGENT="pytest-agent/1.0",
            HTTP_X_REQUEST_ID="req-create-1",
        )
        assert created.status_code == 201, created.content
        workflow_id = created.json()["id"]
        event = one("workflow.created", object_id=workflow_id)
        assert (event.actor, event.actor_email, event.source) == (user, user.email, "api")
        assert event.object_type == "workflows.workflow"
        assert event.object_repr == "Nightly"
        assert (event.ip, event.user_agent, event.request_id) == ("127.0.0.1", "pytest-agent/1.0", "req-create-1")
        assert event.changes["name"] == {"new": "Nightly"}
        assert event.changes["owner"] == {"new": str(user.pk)}
        assert one("workflow.updated", object_id=workflow_id).changes == {"tags": {"added": ["ops"]}}

        renamed = auth_client.patch(f"{WORKFLOWS}/{workflow_id}", {"name": "Nightly sync"}, format="json")
        assert renamed.status_code == 200
        update = events("workflow.updated", object_id=workflow_id)[-1]
        assert update.changes == {"name": {"old": "Nightly", "new": "Nightly sync"}}
        assert update.request_id == renamed["X-Request-ID"]

        assert auth_client.delete(f"{WORKFLOWS}/{workflow_id}").status_code == 204
        deleted = one("workflow.deleted", object_id=workflow_id)
        assert deleted.changes["name"] == {"old": "Nightly sync"}
        assert deleted.actor == user

    def test_a_refused_change_leaves_no_event(self, auth_client, user):
        workflow = WorkflowFactory(owner=user)
        before = AuditEvent.objects.count()
        bad = {"definition": {"nodes": [{"id": "a", "type": "nope"}], "edges": []}, "name": "Renamed"}
        assert auth_client.patch(f"{WORKFLOWS}/{workflow.pk}", bad, format="json").status_code == 400
        assert AuditEvent.objects.count() == before
        assert Workflow.objects.get(pk=workflow.pk).name == workflow.name

    def test_client_ip_behind_trusted_proxies(self, auth_client, settings):
        settings.NUM_PROXIES = 1
        auth_client.post(
            WORKFLOWS,
            {"name": "Proxied", "definition": simple_definition()},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.9, 10.0.0.2",
            REMOTE_ADDR="10.0.0.1",
        )
        # One proxy: the address it saw connect is the last in the list.
        assert one("workflow.created").ip == "10.0.0.2"
        settings.NUM_PROXIES = 0
        auth_client.post(
            WORKFLOWS,
            {"name": "Direct", "definition": simple_definition()},
            format="json",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
            REMOTE_ADDR="10.0.0.1",
        )
        assert events("workflow.created")[-1].ip == "10.0.0.1"  # the header is not trusted


class TestAdminChanges:
    def test_admin_edit_is_audited_as_the_staff_member(self, make_user):
        admin = make_user(is_staff=True, is_superuser=True)
        workflow = WorkflowFactory(name="Before")
        client = Client()
        client.force_login(admin)
        url = f"/admin/workflows/workflow/{workflow.pk}/change/"
        data = form_data(client.get(url).content.decode(), "workflow_form")
        data.update(name="After", is_active="")
        data.pop("is_active")
        response = client.post(url, data, HTTP_USER_AGENT="browser")
        assert response.status_code == 302, response.content.decode()[:3000]
        event = one("workflow.updated", object_id=str(workflow.pk))
        assert event.actor == admin
        assert event.source == "admin"
        assert event.changes == {"name": {"old": "Before", "new": "After"}, "is_active": {"old": True, "new": False}}
        assert event.user_agent == "browser"

    def test_admin_login_failed_login_and_logout(self, make_user):
        admin = make_user(is_staff=True)
        client = Client()
        response = client.post("/admin/login/", {"username": admin.email, "password": "wrong-password"})
        assert response.status_code == 200  # the form again
        failed = one("auth.login_failed")
        assert (failed.actor, failed.object_repr, failed.object_id) == (None, admin.email, str(admin.pk))
        assert failed.source == "admin"
        assert client.post("/admin/login/", {"username": admin.email, "password": DEFAULT_PASSWORD}).status_code == 302
        login = one("auth.login")
        assert (login.actor, login.changes) == (admin, {"method": "session"})
        client.post("/admin/logout/")
        assert one("auth.logout").actor == admin


class TestAuthEvents:
    def test_login_failed_login_refresh_and_logout(self, api_client, user):
        bad = api_client.post("/api/v1/auth/login", {"email": user.email, "password": "not-it"}, format="json")
        assert bad.status_code == 401
        failed = one("auth.login_failed")
        assert failed.actor is None
        assert failed.changes == {"email": user.email, "known_user": True}
        unknown = api_client.post("/api/v1/auth/login", {"email": "ghost@example.com", "password": "x"}, format="json")
        assert unknown.status_code == 401
        assert events("auth.login_failed")[-1].changes == {"email": "ghost@example.com", "known_user": False}

        tokens = api_client.post(
            "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
        ).json()
        login = one("auth.login")
        assert (login.actor, login.source, login.changes) == (user, "api", {"method": "password"})

        refreshed = api_client.post(
            "/api/v1/auth/refresh", {"refresh_token": tokens["refresh_token"]}, format="json"
        ).json()
        assert one("auth.token_refreshed").actor == user
        api_client.post("/api/v1/auth/logout", {"refresh_token": refreshed["refresh_token"]}, format="json")
        logout = one("auth.logout")
        assert (logout.actor, logout.changes) == (user, {"method": "token"})

        text = all_audit_text()
        for secret in (
            DEFAULT_PASSWORD,
            "not-it",
            tokens["access_token"],
            tokens["refresh_token"],
            refreshed["refresh_token"],
            User.objects.get(pk=user.pk).password,
        ):
            assert secret not in text

    def test_register_and_password_change_redact_the_password(self, api_client):
        password = "a-long-passphrase-1"
        api_client.post("/api/v1/auth/register", {"email": "new@example.com", "password": password}, format="json")
        created = one("user.created")
        assert created.changes["password"] == {"new": "[redacted]"}
        assert created.changes["email"] == {"new": "new@example.com"}
        assert one("user.updated", object_id=created.object_id).changes == {"groups": {"added": ["editor"]}}
        user = User.objects.get(email="new@example.com")
        new_password = "another-long-passphrase-2"
        response = client_for(user).post(
            "/api/v1/auth/password", {"current_password": password, "new_password": new_password}, format="json"
        )
        assert response.status_code == 204
        change = events("user.updated", object_id=str(user.pk))[-1]
        assert change.changes == {"password": {"old": "[redacted]", "new": "[redacted]"}}
        assert change.actor == user
        text = all_audit_text()
        for secret in (password, new_password, User.objects.get(pk=user.pk).password):
            assert secret not in text

    def test_api_key_creation_and_revocation(self, auth_client, user):
        created = auth_client.post("/api/v1/api-keys", {"name": "ci", "scopes": ["workflow:read"]}, format="json")
        raw = created.json()["key"]
        key = ApiKey.objects.get()
        event = one("api_key.created", object_id=str(key.pk))
        assert event.actor == user
        assert event.changes["name"] == {"new": "ci"}
        assert event.changes["scopes"] == {"new": ["workflow:read"]}
        assert event.changes["key_hash"] == {"new": "[redacted]"}
        assert auth_client.delete(f"/api/v1/api-keys/{key.pk}").status_code == 204
        revoked = one("api_key.revoked", object_id=str(key.pk))
        assert revoked.actor == user
        assert set(revoked.changes) == {"revoked_at"}
        text = all_audit_text()
        assert raw not in text
        assert key.key_hash not in text
        assert raw.split("_")[2] not in text  # not even the secret part


def approval_definition():
    return {
        "nodes": [
            node("start", "trigger.manual"),
            node("ask", "approval", message="Ship it?"),
            node("yes", "transform", value="shipped"),
            node("no", "transform", value="not shipped"),
        ],
        "edges": [edge("start", "ask"), edge("ask", "yes", "approved"), edge("ask", "no", "rejected")],
        "variables": {},
        "settings": {},
    }


class TestExecutionEvents:
    def test_started_and_cancelled(self, inline_engine, auth_client, user):
        workflow = WorkflowFactory(owner=user, definition=approval_definition())
        response = inline_engine.drive(
            lambda: auth_client.post(f"/api/v1/workflows/{workflow.pk}/execute", {"input_data": {}}, format="json")
        )
        execution_id = response.json()["execution_id"]
        started = one("execution.started", object_id=execution_id)
        assert started.actor == user
        assert started.changes == {
            "workflow_id": str(workflow.pk),
            "version": 1,
            "trigger": "manual",
            "mode": "live",
            "held": False,
        }
        assert Execution.objects.get(pk=execution_id).status == Execution.Status.WAITING
        cancelled = inline_engine.drive(lambda: auth_client.post(f"/api/v1/executions/{execution_id}/cancel"))
        assert cancelled.status_code == 200
        event = one("execution.cancelled", object_id=execution_id)
        assert (event.actor, event.changes) == (user, {"reason": f"Cancelled by {user.email}"})
        # A second cancel is refused and records nothing.
        assert auth_client.post(f"/api/v1/executions/{execution_id}/cancel").status_code == 409
        assert len(events("execution.cancelled")) == 1

    @pytest.mark.parametrize(
        ("decision", "action"), [("approve", "execution.approved"), ("reject", "execution.rejected")]
    )
    def test_approved_and_rejected(self, inline_engine, auth_client, user, decision, action):
        workflow = WorkflowFactory(owner=user, definition=approval_definition())
        execution = inline_engine.run(workflow, actor=user)
        assert StepRun.objects.get(execution=execution, node_id="ask").status == StepRun.Status.WAITING
        url = f"/api/v1/executions/{execution.pk}/steps/ask/{decision}"
        response = inline_engine.drive(lambda: auth_client.post(url, {"comment": "ok by me"}, format="json"))
        assert response.status_code == 200, response.content
        assert response.json()["status"] == "completed"
        event = one(action, object_id=str(execution.pk))
        assert (event.actor, event.changes) == (user, {"node_id": "ask", "comment": "ok by me"})

    def test_system_started_runs_have_no_actor(self, inline_engine):
        workflow = WorkflowFactory()
        execution = inline_engine.run(workflow, {"n": 1}, trigger=Execution.Trigger.SCHEDULE)
        event = one("execution.started", object_id=str(execution.pk))
        assert (event.actor, event.source, event.changes["trigger"]) == (None, "system", "schedule")


class TestOtherEvents:
    def test_credential_use(self, user):
        from audit.services import audit_credential_use
        from tests.factories import ExecutionFactory

        execution = ExecutionFactory()
        credential = ApiKey.objects.create(user=user, name="stand-in", prefix="p1", key_hash="h")
        event = audit_credential_use(credential=credential, execution=execution, node_id="fetch", purpose="node")
        assert event.action == "credential.used"
        assert (event.object_type, event.object_id) == ("accounts.apikey", str(credential.pk))
        assert event.changes == {"execution_id": str(execution.pk), "node_id": "fetch", "purpose": "node"}
        assert event.actor is None

    def test_admin_sign_out_everywhere(self, user, make_user, api_client):
        root = make_user(is_staff=True, is_superuser=True)
        api_client.post("/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
        client = Client()
        client.force_login(root)
        client.post("/admin/accounts/user/", {"action": "revoke_tokens", "_selected_action": [str(user.pk)]})
        event = one("auth.tokens_revoked", object_id=str(user.pk))
        assert (event.actor, event.source, event.changes) == (root, "admin", {"revoked": 1})
