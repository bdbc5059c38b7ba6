"""Uploads and deletions of files are in the audit log (the audit app's registry)."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent
from tests.files.samples import PDF_BYTES
from tests.files.test_files_api import upload

pytestmark = pytest.mark.django_db


def test_upload_and_delete_are_audited(auth_client, user, django_capture_on_commit_callbacks):
    file_id = upload(auth_client, PDF_BYTES, name="invoice.pdf").json()["id"]
    created = AuditEvent.objects.get(action="file.created", object_id=file_id)
    assert (created.actor, created.source, created.object_type) == (user, "api", "files.storedfile")
    assert created.changes["name"] == {"new": "invoice.pdf"}
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/v1/files/{file_id}").status_code == 204
    assert AuditEvent.objects.get(action="file.deleted", object_id=file_id).actor == user
