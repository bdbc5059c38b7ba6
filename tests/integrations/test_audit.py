"""Credentials in the audit log: their changes (the secret never recorded) and every use of the secret."""

from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command

from audit.models import AuditEvent
from integrations.models import Credential
from tests.integrations.servers import OPENAI_KEY
from tests.integrations.test_crypto import NEW_KEY, OLD_KEY
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]

TOKEN = "bearer-token-0123456789"  # what the test server accepts


def audit_text() -> str:
    return json.dumps(list(AuditEvent.objects.values()), default=str)


def test_credential_changes_are_audited_without_the_secret(auth_client, user):
    created = auth_client.post(
        "/api/v1/credentials", {"name": "Bearer", "type": "http_bearer", "data": {"token": TOKEN}}, format="json"
    )
    assert created.status_code == 201, created.content
    credential = Credential.objects.get()
    event = AuditEvent.objects.get(action="credential.created", object_id=str(credential.pk))
    assert event.actor == user
    assert event.changes["encrypted_data"] == {"new": "[redacted]"}
    assert event.changes["name"] == {"new": "Bearer"}
    new_token = "another-token-9876543210-also-secret"
    patched = auth_client.patch(f"/api/v1/credentials/{credential.pk}", {"data": {"token": new_token}}, format="json")
    assert patched.status_code == 200, patched.content
    update = AuditEvent.objects.get(action="credential.updated", object_id=str(credential.pk))
    assert update.changes["encrypted_data"] == {"old": "[redacted]", "new": "[redacted]"}
    assert auth_client.delete(f"/api/v1/credentials/{credential.pk}").status_code == 204
    assert AuditEvent.objects.filter(action="credential.deleted", object_id=str(credential.pk)).exists()
    text = audit_text()
    for secret in (TOKEN, new_token, credential.encrypted_data):
        assert secret not in text


def test_use_by_a_step_is_recorded_with_the_run_and_node(inline_engine, user, make_credential, target_server):
    credential = make_credential("http_bearer", {"token": TOKEN})
    definition = linear(
        node("start", "trigger.manual"),
        node("call", "http_request", url=target_server.url("/bearer"), credential=str(credential.pk)),
    )
    execution = inline_engine.run(workflow_create(owner=user, name="w", definition=definition), {})
    assert execution.status == "completed"
    event = AuditEvent.objects.get(action="credential.used")
    assert (event.object_type, event.object_id) == ("integrations.credential", str(credential.pk))
    assert event.changes == {"execution_id": str(execution.pk), "node_id": "call", "purpose": "node"}
    assert event.actor is None  # the engine, not a request
    assert TOKEN not in audit_text()


def test_use_by_a_credential_test_and_the_ai_gateway(auth_client, user, make_credential, target_server, openai_server):
    bearer = make_credential("http_bearer", {"token": TOKEN, "test_url": target_server.url("/bearer")})
    assert auth_client.post(f"/api/v1/credentials/{bearer.pk}/test", {}, format="json").json()["ok"] is True
    tested = AuditEvent.objects.get(action="credential.used", object_id=str(bearer.pk))
    assert (tested.actor, tested.source, tested.changes["purpose"]) == (user, "api", "test")

    ai = make_credential("openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY})
    response = auth_client.post(
        "/api/v1/ai/chat", {"messages": [{"role": "user", "content": "hi"}], "credential_id": str(ai.pk)}, format="json"
    )
    assert response.status_code == 200, response.content
    used = AuditEvent.objects.get(action="credential.used", object_id=str(ai.pk))
    assert (used.actor, used.changes["purpose"]) == (user, "ai_gateway")
    assert OPENAI_KEY not in audit_text()


def test_key_rotation_is_one_event(make_credential, settings):
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [OLD_KEY]
    for n in range(3):
        make_credential("http_bearer", {"token": f"{TOKEN}-{n}"})
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    call_command("rotate_encryption_key", "--dry-run", stdout=StringIO())
    assert not AuditEvent.objects.filter(action="credentials.key_rotated").exists()
    call_command("rotate_encryption_key", stdout=StringIO())
    event = AuditEvent.objects.get(action="credentials.key_rotated")
    assert event.changes == {"rotated": 3, "total": 3}
    call_command("rotate_encryption_key", stdout=StringIO())  # nothing left to rotate: no second event
    assert AuditEvent.objects.filter(action="credentials.key_rotated").count() == 1
