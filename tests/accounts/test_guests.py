"""Guests try things out and nothing leaves: dry runs only, small files, sessions rate-limited.

Written as an anonymous visitor would try it: ``POST /auth/guest`` needs no credentials.
"""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from executions.models import Execution
from tests.workflows.helpers import linear, node

pytestmark = pytest.mark.django_db

GUEST = "/api/v1/auth/guest"


def guest_client(**extra) -> APIClient:
    response = APIClient().post(GUEST, **extra)
    assert response.status_code == 201, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['access_token']}")
    return client


def create(client, definition) -> str:
    response = client.post("/api/v1/workflows", {"name": "mine", "definition": definition}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


EMAIL = linear(
    node("start", "trigger.manual"),
    node("send", "email", to="victim@example.com", subject="hi", body="from a guest"),
)


def test_a_guest_cannot_run_a_live_email_workflow_but_can_dry_run_it(settings):
    settings.FLOWBUILDER_SYNC_WAIT_SECONDS = 0.2  # no worker here: the dry run is not waited for
    client = guest_client()
    workflow_id = create(client, EMAIL)
    refused = client.post(f"/api/v1/workflows/{workflow_id}/execute", {"input_data": {}}, format="json")
    assert refused.status_code == 403, refused.content
    assert refused.json()["error"]["reason"] == "GUEST_DRY_RUN_ONLY"
    assert not Execution.objects.exists()
    tried = client.post(f"/api/v1/test/execute/{workflow_id}", {"input_data": {}}, format="json")
    assert tried.status_code in (200, 202), tried.content
    assert Execution.objects.get().mode == Execution.Mode.DRY_RUN
    assert mail.outbox == []


def test_a_guests_webhook_runs_as_a_dry_run():
    client = guest_client()
    workflow_id = create(
        client,
        linear(
            node("hook", "trigger.webhook", method="POST"),
            node("post", "http_request", method="POST", url="https://93.184.216.34/collect", body="{{ input.body }}"),
        ),
    )
    token = client.get(f"/api/v1/workflows/{workflow_id}").json()["trigger"]["url"].rstrip("/").split("/")[-1]
    response = APIClient().post(f"/hooks/{token}", {"x": 1}, format="json")
    assert response.status_code == 202, response.content
    run = Execution.objects.get()
    assert (run.mode, run.trigger) == (Execution.Mode.DRY_RUN, Execution.Trigger.WEBHOOK)


def test_a_guest_cannot_retry_into_a_live_run(settings):
    settings.FLOWBUILDER_SYNC_WAIT_SECONDS = 0.2  # no worker here: the dry run is not waited for
    client = guest_client()
    workflow_id = create(client, EMAIL)
    client.post(f"/api/v1/test/execute/{workflow_id}", {"input_data": {}}, format="json")
    run = Execution.objects.get()
    Execution.objects.filter(pk=run.pk).update(status=Execution.Status.FAILED)
    retried = client.post(f"/api/v1/executions/{run.pk}/retry")
    assert retried.status_code in (202, 201, 403), retried.content
    assert not Execution.objects.filter(mode=Execution.Mode.LIVE).exists()


def test_guest_uploads_stop_at_a_small_quota(settings):
    settings.GUEST_FILE_QUOTA_BYTES = 1000
    client = guest_client()
    small = client.post(
        "/api/v1/files/upload", {"file": SimpleUploadedFile("a.txt", b"a" * 600, "text/plain")}, format="multipart"
    )
    assert small.status_code == 201, small.content
    more = client.post(
        "/api/v1/files/upload", {"file": SimpleUploadedFile("b.txt", b"b" * 600, "text/plain")}, format="multipart"
    )
    assert more.status_code == 413
    assert more.json()["error"]["reason"] == "STORAGE_QUOTA_EXCEEDED"


def test_guest_sessions_are_limited_across_all_clients(settings):
    settings.GUEST_SESSIONS_RATE = ["3/minute"]
    # A new (forged) address each time: neither the per-address limit nor this one is fooled.
    statuses = [APIClient().post(GUEST, HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code for i in range(4)]
    assert statuses == [201, 201, 201, 503]
    refused = APIClient().post(GUEST, REMOTE_ADDR="192.0.2.99")
    assert refused.status_code == 503
    assert refused.json()["error"]["reason"] == "GUEST_SESSIONS_UNAVAILABLE"
    assert int(refused["Retry-After"]) > 0


def test_guest_sessions_can_be_turned_off(settings):
    settings.GUEST_SESSIONS_ENABLED = False
    response = APIClient().post(GUEST)
    assert response.status_code == 503
    assert "turned off" in response.json()["error"]["message"]


def test_guests_get_no_keys_and_no_credentials():
    client = guest_client()
    assert client.post("/api/v1/api-keys", {"name": "k"}, format="json").status_code == 403
    credential = {"name": "c", "credential_type": "bearer_token", "data": {"token": "x"}}
    assert client.post("/api/v1/credentials", credential, format="json").status_code == 403
