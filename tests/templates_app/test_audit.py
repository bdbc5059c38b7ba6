"""Template changes through the API are in the audit log (the audit app's registry)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.templates_app.test_api import URL, create

pytestmark = pytest.mark.django_db


def test_create_update_delete_are_audited(auth_client, user):
    template_id = create(auth_client).json()["id"]
    created = AuditEvent.objects.get(action="template.created", object_id=template_id)
    assert (created.actor, created.source, created.object_type) == (user, "api", "templates_app.template")
    auth_client.patch(f"{URL}/{template_id}", {"name": "Hello"}, format="json")
    updated = AuditEvent.objects.get(action="template.updated", object_id=template_id)
    assert updated.changes["name"]["new"] == "Hello"
    assert auth_client.delete(f"{URL}/{template_id}").status_code == 204
    assert AuditEvent.objects.get(action="template.deleted", object_id=template_id).actor == user
