"""The files API: upload (limits, sniffing, names, quota), list, detail, download, delete, and the bad inputs."""

from __future__ import annotations

import hashlib
import os

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from files import signals
from files.models import StoredFile
from tests.clients import client_for
from tests.factories import WorkflowFactory
from tests.files.samples import CSV_BYTES, PDF_BYTES, png_bytes

pytestmark = pytest.mark.django_db

UPLOAD = "/api/v1/files/upload"


def upload(client, data: bytes, name: str = "report.pdf", content_type: str = "application/pdf", **fields):
    body = {"file": SimpleUploadedFile(name, data, content_type=content_type), **fields}
    return client.post(UPLOAD, body, format="multipart")


def test_upload_sniffs_the_type_and_answers_the_file(auth_client, user, file_storage_dir):
    response = upload(auth_client, png_bytes(), name="holiday.pdf", description="Not a PDF at all")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "holiday.pdf"
    assert body["content_type"] == "image/png"  # from the bytes, not the client
    assert body["declared_content_type"] == "application/pdf"
    assert body["category"] == "image"
    assert body["size"] == len(png_bytes())
    assert body["sha256"] == hashlib.sha256(png_bytes()).hexdigest()
    assert body["status"] == "uploaded"
    assert body["download_url"] == f"http://testserver/api/v1/files/{body['id']}/download"
    # Stored under <owner>/<id>: never under the client's name.
    assert (file_storage_dir / str(user.pk) / body["id"]).read_bytes() == png_bytes()


def test_list_paginates_and_filters(auth_client):
    upload(auth_client, png_bytes(), name="a.png", content_type="image/png")
    upload(auth_client, CSV_BYTES, name="b.csv", content_type="text/csv")
    upload(auth_client, PDF_BYTES, name="c.pdf")
    body = auth_client.get("/api/v1/files?size=2").json()
    assert (body["total"], body["pages"], len(body["items"])) == (3, 2, 2)
    assert [f["name"] for f in auth_client.get("/api/v1/files?category=data").json()["items"]] == ["b.csv"]
    assert auth_client.get("/api/v1/files?status=processed").json()["total"] == 0
    bad = auth_client.get("/api/v1/files?category=spreadsheet")
    assert bad.status_code == 400
    assert bad.json()["error"]["details"][0]["field"] == "category"


def test_download_streams_with_the_sniffed_type_and_a_safe_disposition(auth_client):
    file_id = upload(auth_client, CSV_BYTES, name="ventes été.csv", content_type="text/csv").json()["id"]
    response = auth_client.get(f"/api/v1/files/{file_id}/download")
    assert response.status_code == 200
    assert response.streaming
    assert b"".join(response.streaming_content) == CSV_BYTES
    assert response["Content-Type"] == "text/csv"
    assert response["Content-Length"] == str(len(CSV_BYTES))
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "attachment; filename*=utf-8''ventes%20%C3%A9t%C3%A9.csv"


def test_empty_upload_is_400(auth_client):
    response = upload(auth_client, b"")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "file"
    assert StoredFile.objects.count() == 0


def test_missing_file_is_400(auth_client):
    response = auth_client.post(UPLOAD, {"description": "nothing"}, format="multipart")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "file"


def test_over_size_is_413_while_streaming(auth_client, settings, file_storage_dir):
    # The body is within the upload path's Content-Length allowance; the upload handler stops the file.
    settings.FLOWBUILDER_FILE_MAX_BYTES = 1000
    response = upload(auth_client, b"x" * 1500, name="big.txt", content_type="text/plain")
    assert response.status_code == 413
    error = response.json()["error"]
    assert (error["code"], error["reason"]) == ("PAYLOAD_TOO_LARGE", "FILE_TOO_LARGE")
    assert error["details"][0]["field"] == "file"
    assert StoredFile.objects.count() == 0
    assert not file_storage_dir.exists() or not any(file_storage_dir.rglob("*"))


def test_over_size_by_content_length_is_413_before_reading(auth_client, settings):
    settings.API_BODY_LIMIT_OVERRIDES = {UPLOAD: 2000}
    response = upload(auth_client, b"x" * 5000, name="big.txt", content_type="text/plain")
    assert response.status_code == 413
    assert "the limit is 2000 bytes" in response.json()["error"]["message"]


def test_uploads_above_the_general_api_limit_are_allowed(auth_client, settings):
    settings.API_MAX_BODY_BYTES = 1000
    response = upload(auth_client, b"y" * 3000, name="notes.txt", content_type="text/plain")
    assert response.status_code == 201, response.content


def test_path_traversal_filename_is_neutralised(auth_client, user, file_storage_dir, tmp_path):
    data = b"root:x:0:0:root:/root:/bin/bash\n"
    file = SimpleUploadedFile("x", data, content_type="text/plain")
    file.name = "../../../../etc/passwd"  # what a hostile client sends in the multipart header
    response = auth_client.post(UPLOAD, {"file": file}, format="multipart")
    assert response.status_code == 201
    body = response.json()
    assert body["name"] == "passwd"
    stored = list(file_storage_dir.rglob("*"))
    assert file_storage_dir / str(user.pk) / body["id"] in stored
    assert all(os.path.commonpath([p, file_storage_dir]) == str(file_storage_dir) for p in stored)
    assert not (tmp_path / "etc").exists()


def test_quota_exceeded_is_413_and_signalled(auth_client, user, settings):
    settings.FLOWBUILDER_FILE_QUOTA_BYTES = 100
    received = []
    handler = lambda sender, **kwargs: received.append(kwargs)  # noqa: E731
    signals.quota_exceeded.connect(handler)
    try:
        assert upload(auth_client, b"a" * 60, name="one.txt", content_type="text/plain").status_code == 201
        response = upload(auth_client, b"b" * 60, name="two.txt", content_type="text/plain")
    finally:
        signals.quota_exceeded.disconnect(handler)
    assert response.status_code == 413
    assert response.json()["error"]["message"].startswith("Storage quota exceeded")
    assert response.json()["error"]["reason"] == "STORAGE_QUOTA_EXCEEDED"
    assert received == [
        {"user": user, "used_bytes": 60, "quota_bytes": 100, "requested_bytes": 60, "signal": signals.quota_exceeded}
    ]
    assert StoredFile.objects.filter(owner=user).count() == 1


def test_another_users_file_is_404_everywhere(auth_client, make_user):
    file_id = upload(auth_client, PDF_BYTES).json()["id"]
    other = client_for(make_user())
    assert other.get(f"/api/v1/files/{file_id}").status_code == 404
    assert other.get(f"/api/v1/files/{file_id}/download").status_code == 404
    assert other.post(f"/api/v1/files/{file_id}/process", {}, format="json").status_code == 404
    assert other.delete(f"/api/v1/files/{file_id}").status_code == 404
    assert other.get("/api/v1/files").json()["total"] == 0
    assert auth_client.get(f"/api/v1/files/{file_id}").status_code == 200


def test_delete_removes_the_bytes_and_twice_is_404(
    auth_client, user, file_storage_dir, django_capture_on_commit_callbacks
):
    file_id = upload(auth_client, PDF_BYTES).json()["id"]
    path = file_storage_dir / str(user.pk) / file_id
    assert path.exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert auth_client.delete(f"/api/v1/files/{file_id}").status_code == 204
    assert not path.exists()
    again = auth_client.delete(f"/api/v1/files/{file_id}")
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "NOT_FOUND"


def test_process_with_an_invalid_workflow_is_400_on_the_field(auth_client, make_user):
    file_id = upload(auth_client, PDF_BYTES).json()["id"]
    cases = [
        ({"workflow_id": "00000000-0000-0000-0000-000000000000"}, "not found"),
        ({"workflow_id": str(WorkflowFactory(owner=make_user()).pk)}, "not found"),  # someone else's
        ({"workflow_id": "not-a-uuid"}, "valid UUID"),
        ({}, "No workflow is linked"),
    ]
    for payload, message in cases:
        response = auth_client.post(f"/api/v1/files/{file_id}/process", payload, format="json")
        assert response.status_code == 400, payload
        detail = response.json()["error"]["details"][0]
        assert detail["field"] == "workflow_id"
        assert message in detail["message"]
    assert auth_client.get(f"/api/v1/files/{file_id}").json()["status"] == "uploaded"


def test_upload_with_an_invalid_workflow_stores_nothing(auth_client):
    response = upload(auth_client, PDF_BYTES, workflow_id="00000000-0000-0000-0000-000000000000")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "workflow_id"
    response = upload(auth_client, PDF_BYTES, process_immediately=True)
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "workflow_id"
    assert StoredFile.objects.count() == 0


def test_processing_needs_execute_permission(user):
    from rest_framework.test import APIClient

    from accounts.services import api_key_create

    _, raw = api_key_create(user=user, granted=user.api_permissions, name="files", scopes=["file:read", "file:write"])
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    file_id = upload(client, PDF_BYTES).json()["id"]
    workflow = WorkflowFactory(owner=user)
    response = client.post(f"/api/v1/files/{file_id}/process", {"workflow_id": str(workflow.pk)}, format="json")
    assert response.status_code == 403


def test_viewers_read_files_but_do_not_upload(make_user):
    response = upload(client_for(make_user(role="viewer")), PDF_BYTES)
    assert response.status_code == 403
    assert "file:write" in response.json()["error"]["message"]


@override_settings(FLOWBUILDER_S3_BUCKET="")
def test_local_storage_is_the_default():
    from django.conf import settings

    assert settings.STORAGES["files"]["BACKEND"] == "django.core.files.storage.FileSystemStorage"
