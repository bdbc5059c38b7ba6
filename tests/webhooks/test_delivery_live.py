"""Deliveries end to end: a real Celery worker, real runs, real uploads, real HTTP receivers on loopback.

Retries due within FLOWBUILDER_MAX_COUNTDOWN_SECONDS ride a broker countdown; longer ones are
driven here as in production, by the sweep, after moving the due time of the pending attempt.
"""

from __future__ import annotations

from datetime import timedelta
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.utils import timezone

from audit.models import AuditEvent
from executions.services import execution_start
from files import signals as file_signals
from flowbuilder.api.errors import ValidationFailed
from tests.clients import client_for
from tests.engine_fixtures import wait_finished, wait_for
from tests.files.samples import png_bytes
from tests.webhooks.signatures import verify_signature
from tests.workflows.helpers import linear, node, simple_definition
from webhooks import delivery, services
from webhooks.models import WebhookDelivery, WebhookSubscription
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

STARTED, COMPLETED, FAILED = "workflow.execution.started", "workflow.execution.completed", "workflow.execution.failed"
QUOTA, FILE = "user.quota.exceeded", "file.processing.completed"


def subscribe(client, url: str, events: list[str], **body) -> dict:
    response = client.post("/api/v1/webhooks", {"url": url, "events": events, **body}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def attempts(**filters) -> list[WebhookDelivery]:
    return list(WebhookDelivery.objects.filter(**filters).order_by("created_at", "attempt"))


def finished(**filters):
    """Wait until every attempt matching ``filters`` has been made, at least one; answers them."""

    def done():
        rows = attempts(**filters)
        return rows if rows and all(r.status != "pending" for r in rows) else None

    return wait_for(done, timeout=30)


def quota_hit(user) -> None:
    """What the files app sends when an upload would pass the quota (after its transaction)."""
    file_signals.quota_exceeded.send(sender=None, user=user, used_bytes=90, quota_bytes=100, requested_bytes=20)


@pytest.fixture
def owner(make_user):
    return make_user()


@pytest.fixture
def client(owner):
    return client_for(owner)


def test_a_test_event_is_signed_sent_and_logged(celery_worker, receiver, client):
    created = subscribe(client, receiver.script("/hook", [200]), [STARTED])
    queued = client.post(f"/api/v1/webhooks/{created['id']}/test").json()
    (row,) = finished(delivery_id=queued["delivery_id"])
    assert (row.status, row.response_status, row.attempt) == ("succeeded", 200, 1)
    assert row.response_time_ms is not None
    assert '"received": true' in row.response_body
    (hit,) = receiver.got("/hook")
    payload = verify_signature(created["secret"], hit)
    assert payload["event"] == "ping"
    assert payload["data"]["subscription_id"] == created["id"]
    assert payload["delivery_id"] == queued["delivery_id"]
    assert (hit.headers["user-agent"], hit.headers["x-flowbuilder-attempt"]) == ("Flowbuilder-Webhooks/1.0", "1")
    listed = client.get(f"/api/v1/webhooks/{created['id']}/deliveries").json()
    assert [(d["status"], d["response_status"]) for d in listed["items"]] == [("succeeded", 200)]


def test_a_500_then_a_200_the_retry_succeeds(celery_worker, receiver, client, owner, settings):
    settings.FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS = [1, 1]  # short: a broker countdown carries the retry
    created = subscribe(client, receiver.script("/flaky", [500, 200]), [QUOTA])
    quota_hit(owner)
    rows = wait_for(lambda: (r := attempts(subscription_id=created["id"])) and r[-1].status == "succeeded" and r)
    assert [(r.attempt, r.status, r.response_status) for r in rows] == [(1, "retrying", 500), (2, "succeeded", 200)]
    assert rows[0].error == "HTTP 500"
    assert rows[0].next_attempt_at - rows[0].completed_at == timedelta(seconds=1)
    assert rows[0].delivery_id == rows[1].delivery_id
    hits = receiver.got("/flaky")
    assert [h.headers["x-flowbuilder-attempt"] for h in hits] == ["1", "2"]
    payloads = [verify_signature(created["secret"], hit) for hit in hits]
    assert payloads[0] == payloads[1]  # the same event, the same delivery_id: receivers de-duplicate on it
    assert payloads[0]["data"]["used_bytes"] == 90
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    assert (subscription.failure_count, subscription.is_active) == (0, True)
    assert subscription.last_success_at is not None


def test_always_failing_gives_up_after_the_last_attempt(celery_worker, receiver, client, owner, settings):
    settings.FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS = [60, 600, 3600]  # 4 attempts
    settings.FLOWBUILDER_MAX_COUNTDOWN_SECONDS = 0  # every retry waits for the sweep
    created = subscribe(client, receiver.script("/down", [503]), [QUOTA])
    quota_hit(owner)
    for attempt, delay in ((1, 60), (2, 600), (3, 3600)):
        (made,) = finished(subscription_id=created["id"], attempt=attempt)
        assert (made.status, made.response_status) == ("retrying", 503)
        assert made.next_attempt_at - made.completed_at == timedelta(seconds=delay)
        following = WebhookDelivery.objects.get(subscription_id=created["id"], attempt=attempt + 1)
        assert (following.status, following.queued_at) == ("pending", None)
        assert delivery.sweep() == 0  # not due yet: nothing is sent early
        assert len(receiver.got("/down")) == attempt
        WebhookDelivery.objects.filter(pk=following.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert delivery.sweep() == 1
    (last,) = finished(subscription_id=created["id"], attempt=4)
    assert (last.status, last.response_status, last.next_attempt_at) == ("given_up", 503, None)
    assert delivery.sweep() == 0
    assert len(receiver.got("/down")) == 4
    assert {h.headers["x-flowbuilder-delivery"] for h in receiver.got("/down")} == {str(last.delivery_id)}
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    assert (subscription.failure_count, subscription.is_active) == (4, True)  # under the limit of 10
    listed = client.get(f"/api/v1/webhooks/{created['id']}/deliveries", {"status": "given_up"}).json()
    assert [d["attempt"] for d in listed["items"]] == [4]


def test_repeated_failures_disable_the_webhook_and_tell_the_owner(
    celery_worker, receiver, client, owner, settings, mailoutbox
):
    settings.FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS = []  # one attempt per event
    settings.FLOWBUILDER_WEBHOOK_DISABLE_AFTER_FAILURES = 3
    created = subscribe(client, receiver.script("/broken", [500]), [QUOTA, COMPLETED])
    healthy = subscribe(client, receiver.script("/fine", [200]), [QUOTA])
    # A retry of an earlier event, due much later: ended by the disable.
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    waiting = WebhookDelivery.objects.create(
        owner=owner,
        subscription=subscription,
        url=subscription.url,
        event=QUOTA,
        payload={"event": QUOTA, "data": {}, "timestamp": "t", "delivery_id": "d"},
        attempt=2,
        next_attempt_at=timezone.now() + timedelta(hours=6),
    )
    for count, expected in enumerate(("given_up", "given_up", "failed"), start=1):
        quota_hit(owner)
        made = finished(subscription_id=created["id"], attempt=1)
        assert [len(made), made[-1].status] == [count, expected]
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.failure_count) == (False, 3)
    assert subscription.disabled_at is not None
    assert subscription.disabled_reason == "Disabled after 3 failed deliveries in a row; the last: HTTP 500"
    waiting.refresh_from_db()
    assert (waiting.status, waiting.error) == ("failed", "The webhook was disabled after repeated failures")

    event = AuditEvent.objects.get(action="webhook.disabled")
    assert (event.object_id, event.source, event.actor) == (created["id"], "system", None)
    assert event.changes["is_active"] == {"old": True, "new": False}
    wait_for(lambda: len(mailoutbox) == 1)
    (mail,) = mailoutbox
    assert mail.to == [owner.email]
    assert "disabled" in mail.subject
    assert subscription.url in mail.body
    assert "HTTP 500" in mail.body

    quota_hit(owner)  # no longer sent to the disabled webhook; the healthy one still gets it
    assert len(finished(subscription_id=healthy["id"])) == 4
    assert len(receiver.got("/broken")) == 3
    shown = client.get(f"/api/v1/webhooks/{created['id']}").json()
    assert (shown["is_active"], shown["failure_count"]) == (False, 3)
    assert shown["disabled_reason"].startswith("Disabled after 3 failed deliveries")

    enabled = client.patch(f"/api/v1/webhooks/{created['id']}", {"is_active": True}, format="json").json()
    assert (enabled["is_active"], enabled["failure_count"], enabled["disabled_at"]) == (True, 0, None)


def test_addresses_inside_are_refused_at_delivery(celery_worker, receiver, forbidden, client, owner, settings):
    refused = client.post("/api/v1/webhooks", {"url": forbidden.url("/internal"), "events": [QUOTA]}, format="json")
    assert refused.status_code == 400
    assert refused.json()["error"]["details"][0]["field"] == "url"
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1", "127.0.0.2"]
    created = subscribe(client, forbidden.url("/internal"), [QUOTA])
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]  # the operator narrows the allow-list
    quota_hit(owner)
    (row,) = finished(subscription_id=created["id"])
    assert row.status == "failed"  # refused: not retried
    assert row.error.startswith("Refused to connect to 127.0.0.2: it is a loopback address")
    assert row.response_status is None
    assert not WebhookDelivery.objects.filter(delivery_id=row.delivery_id, attempt=2).exists()

    # A run's own webhook_url: the API refuses it up front, and delivery checks it again.
    workflow = workflow_create(owner=owner, name="wf", definition=simple_definition())
    response = client.post(
        f"/api/v1/workflows/{workflow.pk}/execute",
        {"input_data": {"n": 1}, "webhook_url": forbidden.url("/run")},
        format="json",
    )
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "webhook_url"
    with pytest.raises(ValidationFailed) as refused_start:  # the check is the service's, whoever calls it
        execution_start(workflow=workflow, input_data={"n": 1}, webhook_url=forbidden.url("/run"))
    assert refused_start.value.details[0]["field"] == "webhook_url"
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1", "127.0.0.2"]
    with transaction.atomic():  # allowed when it started; the worker's list (127.0.0.1 only) refuses it
        execution, _ = execution_start(workflow=workflow, input_data={"n": 1}, webhook_url=forbidden.url("/run"))
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]
    wait_finished(execution.pk)
    (run_row,) = finished(execution_id=execution.pk, subscription__isnull=True)
    assert (run_row.status, run_row.event) == ("failed", COMPLETED)
    assert "Refused" in run_row.error
    # (the forbidden fixture fails the test if 127.0.0.2 was reached)


def test_events_of_real_runs(celery_worker, receiver, client, owner):
    run_secret = client.post("/api/v1/webhooks/signing-secret").json()["secret"]
    created = subscribe(client, receiver.url("/events"), [STARTED, COMPLETED, FAILED])
    ok = workflow_create(owner=owner, name="ok", definition=simple_definition())
    broken = workflow_create(
        owner=owner,
        name="broken",
        definition=linear(node("start", "trigger.manual"), node("boom", "test.flaky", fail_times=9, retryable=False)),
    )
    only_broken = subscribe(client, receiver.url("/broken-only"), [STARTED, FAILED], workflow=str(broken.pk))

    response = client.post(
        f"/api/v1/workflows/{ok.pk}/execute",
        {"input_data": {"n": 21}, "webhook_url": receiver.url("/run?token=abc")},
        format="json",
    )
    assert response.status_code == 202
    execution_id = response.json()["execution_id"]
    assert wait_finished(execution_id).status == "completed"
    rows = wait_for(lambda: len(r := finished(execution_id=execution_id)) == 3 and r)
    assert all(r.status == "succeeded" for r in rows), [(r.url, r.error) for r in rows]

    by_event = {verify_signature(created["secret"], h)["event"]: h.json for h in receiver.got("/events")}
    assert set(by_event) == {STARTED, COMPLETED}
    started, completed = by_event[STARTED]["data"], by_event[COMPLETED]["data"]
    assert (started["execution_id"], started["workflow_id"], started["input_data"]) == (
        execution_id,
        str(ok.pk),
        {"n": 21},
    )
    assert (completed["status"], completed["output_data"], completed["workflow_name"]) == (
        "completed",
        {"result": 42},
        "ok",
    )
    assert completed["duration_seconds"] >= 0
    assert completed["completed_at"]
    (run_hit,) = receiver.got("/run")
    payload = verify_signature(run_secret, run_hit)  # signed with the user's signing secret
    assert (payload["event"], payload["data"]["execution_id"]) == (COMPLETED, execution_id)
    assert receiver.got("/broken-only") == []  # filtered on the other workflow

    failing = client.post(f"/api/v1/workflows/{broken.pk}/execute", {}, format="json").json()["execution_id"]
    assert wait_finished(failing).status == "failed"
    rows = wait_for(lambda: len(r := finished(execution_id=failing)) == 4 and r)
    assert sorted(r.event for r in rows) == [FAILED, FAILED, STARTED, STARTED]
    assert all(r.subscription_id is not None for r in rows)  # no webhook_url on this run
    failed = [verify_signature(only_broken["secret"], h) for h in receiver.got("/broken-only")]
    assert sorted(p["event"] for p in failed) == [FAILED, STARTED]
    error = next(p for p in failed if p["event"] == FAILED)["data"]["error"]
    assert "flaky failure on attempt 1" in error["message"]
    listed = client.get("/api/v1/webhooks/run-deliveries", {"execution": execution_id}).json()
    assert [(d["event"], d["status"]) for d in listed["items"]] == [(COMPLETED, "succeeded")]


@pytest.fixture
def file_storage(settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(tmp_path)}},
    }


def test_file_events(celery_worker, receiver, client, owner, settings, file_storage):
    created = subscribe(client, receiver.url("/files"), [FILE, QUOTA])
    workflow = workflow_create(
        owner=owner,
        name="thumbnails",
        definition=linear(
            node("start", "trigger.manual", file={"required": True, "categories": ["image"]}),
            node("out", "output", value={"name": "{{ input.file.name }}"}),
        ),
    )
    upload = client.post(
        "/api/v1/files/upload",
        {
            "file": SimpleUploadedFile("cat.png", png_bytes(), content_type="image/png"),
            "workflow_id": str(workflow.pk),
            "process_immediately": "true",
        },
        format="multipart",
    )
    assert upload.status_code == 201, upload.content
    file_id = upload.json()["id"]
    (row,) = finished(subscription_id=created["id"], event=FILE)
    assert row.status == "succeeded"
    payload = verify_signature(created["secret"], receiver.got("/files")[0])
    data = payload["data"]
    assert (data["file"]["id"], data["file"]["name"], data["file"]["category"]) == (file_id, "cat.png", "image")
    assert (data["status"], data["workflow_id"]) == ("processed", str(workflow.pk))
    assert data["result"]["output"] == {"name": "cat.png"}

    settings.FLOWBUILDER_FILE_QUOTA_BYTES = len(png_bytes()) + 10
    refused = client.post(
        "/api/v1/files/upload",
        {"file": SimpleUploadedFile("dog.png", png_bytes(), content_type="image/png")},
        format="multipart",
    )
    assert refused.status_code == 413
    (row,) = finished(subscription_id=created["id"], event=QUOTA)
    assert row.status == "succeeded"
    quota = verify_signature(created["secret"], receiver.got("/files")[-1])
    assert quota["event"] == QUOTA
    assert quota["data"] == {
        "user_id": str(owner.pk),
        "quota": "file_storage",
        "used_bytes": len(png_bytes()),
        "quota_bytes": len(png_bytes()) + 10,
        "requested_bytes": len(png_bytes()),
    }


def test_a_lost_message_is_sent_again_by_the_sweep(celery_worker, receiver, client, owner):
    created = subscribe(client, receiver.url("/late"), [QUOTA])
    # The row commits but its message never reaches the broker (a crash between the two).
    with mock.patch.object(delivery, "_send_tasks") as send:
        (row,) = services.quota_exceeded_emit(user=owner, used_bytes=1, quota_bytes=2, requested_bytes=3)
    assert send.call_count == 1
    assert str(row.subscription_id) == created["id"]
    assert delivery.sweep() == 0  # queued a moment ago: its task may still be on its way
    WebhookDelivery.objects.filter(pk=row.pk).update(queued_at=timezone.now() - timedelta(minutes=5))
    assert delivery.sweep() == 1
    (row,) = finished(subscription_id=created["id"])
    assert row.status == "succeeded"
    assert len(receiver.got("/late")) == 1
