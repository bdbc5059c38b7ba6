"""The outgoing webhooks API: secret shown once, ownership, permissions, bad input, the delivery log."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.services import guest_session_create
from audit.models import AuditEvent
from integrations import crypto
from tests.clients import client_for
from tests.factories import WorkflowFactory
from webhooks.models import WebhookDelivery, WebhookSigningSecret, WebhookSubscription

pytestmark = pytest.mark.django_db

# A public address literal: creation needs no DNS, and these tests never deliver (nothing commits).
PUBLIC = "https://93.184.216.34/hooks/flowbuilder"
STARTED, COMPLETED, FAILED = "workflow.execution.started", "workflow.execution.completed", "workflow.execution.failed"


def create(client, **body):
    return client.post("/api/v1/webhooks", body, format="json")


def fields_of(response) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def delivery(subscription: WebhookSubscription | None, owner=None, **fields) -> WebhookDelivery:
    values = {
        "owner": owner or subscription.owner,
        "subscription": subscription,
        "url": PUBLIC,
        "event": STARTED,
        "payload": {"event": STARTED, "data": {}, "timestamp": "t", "delivery_id": "d"},
        "next_attempt_at": timezone.now(),
        **fields,
    }
    return WebhookDelivery.objects.create(**values)


def test_create_shows_the_secret_once_and_stores_it_encrypted(auth_client, user):
    response = create(auth_client, url=PUBLIC, events=[STARTED, COMPLETED, STARTED], description="ops")
    assert response.status_code == 201, response.content
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("whsec_")
    assert len(secret) > 40
    assert body["secret_hint"] == "••••" + secret[-4:]
    assert body["events"] == [STARTED, COMPLETED]  # duplicates dropped
    assert (body["url"], body["description"], body["workflow"], body["is_active"]) == (PUBLIC, "ops", None, True)
    assert (body["failure_count"], body["disabled_at"]) == (0, None)

    row = WebhookSubscription.objects.get(pk=body["id"])
    assert row.owner == user
    assert secret not in row.encrypted_secret
    assert crypto.decrypt(row.encrypted_secret) == secret

    shown = auth_client.get(f"/api/v1/webhooks/{body['id']}")
    assert shown.status_code == 200
    assert "secret" not in shown.json()
    listed = auth_client.get("/api/v1/webhooks")
    assert listed.json()["total"] == 1
    assert listed.json()["items"][0]["id"] == body["id"]
    assert secret not in listed.content.decode() + shown.content.decode()

    event = AuditEvent.objects.get(action="webhook.created")
    assert (event.actor, event.object_id, event.source) == (user, body["id"], "api")
    assert event.changes["encrypted_secret"] == {"new": "[redacted]"}
    assert secret not in json.dumps(event.changes)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "not a url", "events": [STARTED]}, "url"),
        ({"url": "ftp://93.184.216.34/x", "events": [STARTED]}, "url"),
        ({"url": "javascript:alert(1)", "events": [STARTED]}, "url"),
        ({"url": "https://93.184.216.34/" + "x" * 2000, "events": [STARTED]}, "url"),
        ({"events": [STARTED]}, "url"),
        ({"url": PUBLIC, "events": []}, "events"),
        ({"url": PUBLIC}, "events"),
        ({"url": PUBLIC, "events": STARTED}, "events"),
        ({"url": PUBLIC, "events": ["workflow.execution.exploded"]}, "events[0]"),
        ({"url": PUBLIC, "events": [STARTED, "ping"]}, "events[1]"),
        ({"url": PUBLIC, "events": [STARTED], "workflow": "not-a-uuid"}, "workflow"),
        ({"url": PUBLIC, "events": [STARTED], "description": "x" * 201}, "description"),
    ],
)
def test_bad_input_names_the_field(auth_client, body, field):
    response = create(auth_client, **body)
    assert response.status_code == 400, response.content
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert field in fields_of(response), fields_of(response)
    assert not WebhookSubscription.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.2:8080/hook",
        "http://127.0.0.1/hook",
        "http://localhost:8000/hook",
        "http://10.0.0.5/hook",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::1]/hook",
        "http://[::ffff:127.0.0.1]/hook",
        "http://100.64.0.1/hook",
    ],
)
def test_addresses_inside_are_refused_at_creation(auth_client, url):
    response = create(auth_client, url=url, events=[STARTED])
    assert response.status_code == 400, response.content
    assert "Refused" in fields_of(response)["url"]
    assert not WebhookSubscription.objects.exists()


def test_allow_listed_addresses_are_accepted(auth_client, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["10.1.0.0/16"]
    assert create(auth_client, url="http://10.1.2.3:9000/hook", events=[STARTED]).status_code == 201
    assert create(auth_client, url="http://10.2.0.1/hook", events=[STARTED]).status_code == 400


def test_workflow_filter_must_be_one_of_yours(auth_client, user, make_user):
    mine, theirs = WorkflowFactory(owner=user), WorkflowFactory(owner=make_user())
    refused = create(auth_client, url=PUBLIC, events=[STARTED], workflow=str(theirs.pk))
    assert refused.status_code == 400
    assert fields_of(refused) == {"workflow": "Workflow not found"}
    unknown = create(auth_client, url=PUBLIC, events=[STARTED], workflow=str(uuid.uuid4()))
    assert fields_of(unknown) == {"workflow": "Workflow not found"}
    accepted = create(auth_client, url=PUBLIC, events=[STARTED], workflow=str(mine.pk))
    assert accepted.status_code == 201
    assert accepted.json()["workflow"] == str(mine.pk)


def test_another_users_webhook_is_not_found(auth_client, make_user):
    other = client_for(make_user())
    theirs = create(other, url=PUBLIC, events=[STARTED]).json()
    base = f"/api/v1/webhooks/{theirs['id']}"
    for response in (
        auth_client.get(base),
        auth_client.patch(base, {"is_active": False}, format="json"),
        auth_client.delete(base),
        auth_client.post(f"{base}/test"),
        auth_client.post(f"{base}/rotate-secret"),
        auth_client.get(f"{base}/deliveries"),
    ):
        assert response.status_code == 404, response.content
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert auth_client.get("/api/v1/webhooks").json()["total"] == 0
    row = WebhookSubscription.objects.get(pk=theirs["id"])
    assert row.is_active
    assert not row.deliveries.exists()
    assert auth_client.get("/api/v1/webhooks/not-a-uuid").status_code == 404


def test_patch_changes_events_url_state_and_description(auth_client):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    url = f"/api/v1/webhooks/{created['id']}"
    response = auth_client.patch(
        url,
        {"events": [FAILED, "user.quota.exceeded"], "url": "https://93.184.216.35/other", "description": "new"},
        format="json",
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["events"], body["url"], body["description"]) == (
        [FAILED, "user.quota.exceeded"],
        "https://93.184.216.35/other",
        "new",
    )
    assert "secret" not in body
    assert auth_client.patch(url, {"is_active": False}, format="json").json()["is_active"] is False


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"url": "http://169.254.169.254/"}, "url"),
        ({"url": "gopher://93.184.216.34/"}, "url"),
        ({"events": []}, "events"),
        ({"events": ["file.processing.exploded"]}, "events[0]"),
        ({"is_active": "sometimes"}, "is_active"),
    ],
)
def test_patch_bad_input(auth_client, body, field):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    response = auth_client.patch(f"/api/v1/webhooks/{created['id']}", body, format="json")
    assert response.status_code == 400
    assert field in fields_of(response)
    row = WebhookSubscription.objects.get(pk=created["id"])
    assert (row.url, row.events, row.is_active) == (PUBLIC, [STARTED], True)


def test_reenabling_clears_the_failure_state(auth_client):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    WebhookSubscription.objects.filter(pk=created["id"]).update(
        is_active=False, failure_count=10, disabled_at=timezone.now(), disabled_reason="Disabled after 10 …"
    )
    body = auth_client.patch(f"/api/v1/webhooks/{created['id']}", {"is_active": True}, format="json").json()
    assert (body["is_active"], body["failure_count"], body["disabled_at"], body["disabled_reason"]) == (
        True,
        0,
        None,
        "",
    )


def test_deactivating_ends_pending_deliveries(auth_client, user):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    pending = delivery(subscription)
    done = delivery(subscription, status="succeeded", response_status=200)
    auth_client.patch(f"/api/v1/webhooks/{created['id']}", {"is_active": False}, format="json")
    pending.refresh_from_db()
    done.refresh_from_db()
    assert (pending.status, pending.error) == ("failed", "The webhook was deactivated")
    assert done.status == "succeeded"


def test_rotate_secret(auth_client):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    response = auth_client.post(f"/api/v1/webhooks/{created['id']}/rotate-secret")
    assert response.status_code == 200
    secret = response.json()["secret"]
    assert secret != created["secret"]
    assert crypto.decrypt(WebhookSubscription.objects.get(pk=created["id"]).encrypted_secret) == secret
    event = AuditEvent.objects.get(action="webhook.secret_rotated")
    assert secret not in json.dumps(event.changes)


def test_delete_removes_the_webhook_and_its_log(auth_client):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    delivery(WebhookSubscription.objects.get(pk=created["id"]))
    assert auth_client.delete(f"/api/v1/webhooks/{created['id']}").status_code == 204
    assert not WebhookSubscription.objects.exists()
    assert not WebhookDelivery.objects.exists()
    assert AuditEvent.objects.filter(action="webhook.deleted", object_id=created["id"]).exists()


def test_permissions(api_client, make_user):
    anonymous = api_client.get("/api/v1/webhooks")
    assert anonymous.status_code == 401
    guest = APIClient()
    guest.credentials(HTTP_AUTHORIZATION=f"Bearer {guest_session_create().access_token}")
    assert guest.get("/api/v1/webhooks").status_code == 403
    assert create(guest, url=PUBLIC, events=[STARTED]).status_code == 403
    viewer, operator = client_for(make_user(role="viewer")), client_for(make_user(role="operator"))
    assert viewer.get("/api/v1/webhooks").status_code == 403
    assert operator.get("/api/v1/webhooks").status_code == 200
    assert create(operator, url=PUBLIC, events=[STARTED]).status_code == 403
    assert not WebhookSubscription.objects.exists()


def test_test_queues_a_ping_after_commit(auth_client, django_capture_on_commit_callbacks):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    with django_capture_on_commit_callbacks() as callbacks:
        response = auth_client.post(f"/api/v1/webhooks/{created['id']}/test")
    assert response.status_code == 202, response.content
    body = response.json()
    assert (body["event"], body["status"], body["attempt"], body["subscription"]) == (
        "ping",
        "pending",
        1,
        created["id"],
    )
    assert body["payload"]["data"]["subscription_id"] == created["id"]
    assert body["payload"]["delivery_id"] == body["delivery_id"]
    assert len(callbacks) == 1  # the task is queued only once the row is committed


def test_deliveries_are_paginated_and_filtered(auth_client, user):
    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    other = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    subscription = WebhookSubscription.objects.get(pk=created["id"])
    first = delivery(subscription, status="retrying", attempt=1, response_status=500)
    delivery(subscription, status="given_up", attempt=2, delivery_id=first.delivery_id, response_status=500)
    delivery(subscription, status="succeeded", event="ping")
    delivery(WebhookSubscription.objects.get(pk=other["id"]), status="succeeded")
    url = f"/api/v1/webhooks/{created['id']}/deliveries"

    page = auth_client.get(url, {"size": 2}).json()
    assert (page["total"], page["pages"], len(page["items"])) == (3, 2, 2)
    assert [d["status"] for d in auth_client.get(url, {"status": "given_up"}).json()["items"]] == ["given_up"]
    assert [d["event"] for d in auth_client.get(url, {"event": "ping"}).json()["items"]] == ["ping"]
    attempts = auth_client.get(url, {"delivery_id": str(first.delivery_id)}).json()["items"]
    assert sorted(d["attempt"] for d in attempts) == [1, 2]
    for params, field in (({"status": "lost"}, "status"), ({"event": "boom"}, "event"), ({"page": 0}, "page")):
        response = auth_client.get(url, params)
        assert response.status_code == 400, params
        assert field in fields_of(response)


def test_run_deliveries_are_the_callers_own(auth_client, user, make_user):
    delivery(None, owner=user, event=COMPLETED, status="succeeded")
    delivery(None, owner=make_user(), event=COMPLETED, status="succeeded")
    listed = auth_client.get("/api/v1/webhooks/run-deliveries").json()
    assert listed["total"] == 1
    assert listed["items"][0]["subscription"] is None


def test_signing_secret_is_shown_once_and_can_be_replaced(auth_client, user):
    missing = auth_client.get("/api/v1/webhooks/signing-secret")
    assert missing.status_code == 404
    made = auth_client.post("/api/v1/webhooks/signing-secret")
    assert made.status_code == 201
    secret = made.json()["secret"]
    assert secret.startswith("whsec_")
    shown = auth_client.get("/api/v1/webhooks/signing-secret").json()
    assert shown["secret_hint"] == "••••" + secret[-4:]
    assert "secret" not in shown
    replaced = auth_client.post("/api/v1/webhooks/signing-secret").json()["secret"]
    assert replaced != secret
    assert crypto.decrypt(WebhookSigningSecret.objects.get(owner=user).encrypted_secret) == replaced
    events = AuditEvent.objects.filter(action__startswith="webhook_signing_secret.")
    assert [e.action for e in events.order_by("created_at")] == [
        "webhook_signing_secret.created",
        "webhook_signing_secret.updated",
    ]
    assert all(secret not in json.dumps(e.changes) and replaced not in json.dumps(e.changes) for e in events)


def test_secrets_are_re_encrypted_by_key_rotation(auth_client, settings):
    from integrations.services import encryption_key_rotate

    created = create(auth_client, url=PUBLIC, events=[STARTED]).json()
    auth_client.post("/api/v1/webhooks/signing-secret")
    new_key = crypto.generate_key()
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [new_key, *settings.FLOWBUILDER_ENCRYPTION_KEYS]
    report = encryption_key_rotate()
    assert report.rotated >= 2
    row = WebhookSubscription.objects.get(pk=created["id"])
    assert crypto.is_current(row.encrypted_secret)
    assert crypto.decrypt(row.encrypted_secret) == created["secret"]
    assert crypto.is_current(WebhookSigningSecret.objects.get().encrypted_secret)


def test_old_finished_attempts_are_purged(user):
    from webhooks.delivery import purge

    subscription = WebhookSubscription.objects.create(owner=user, url=PUBLIC, events=[STARTED], encrypted_secret="x")
    old = delivery(subscription, status="succeeded")
    old_pending = delivery(subscription)
    recent = delivery(subscription, status="given_up")
    WebhookDelivery.objects.filter(pk__in=[old.pk, old_pending.pk]).update(
        created_at=timezone.now() - timedelta(days=31)
    )
    assert purge() == 1
    assert set(WebhookDelivery.objects.values_list("pk", flat=True)) == {old_pending.pk, recent.pk}
