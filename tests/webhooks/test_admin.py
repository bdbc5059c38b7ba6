"""The staff console's webhook pages: they render, never show a secret, and cost a constant number of queries."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import UserFactory
from webhooks import services
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db


@pytest.fixture
def console(make_user) -> Client:
    client = Client()
    client.force_login(make_user(is_staff=True, is_superuser=True))
    return client


def make_rows() -> str:
    owner = UserFactory()
    subscription, secret = services.webhook_create(
        owner=owner, url="https://93.184.216.34/hook", events=["user.quota.exceeded"]
    )
    services.signing_secret_rotate(owner=owner)
    WebhookDelivery.objects.create(
        owner=owner,
        subscription=subscription,
        url=subscription.url,
        event="user.quota.exceeded",
        payload={},
        status="succeeded",
        next_attempt_at=timezone.now(),
    )
    return secret


@pytest.mark.parametrize(
    "name", ["webhooks_webhooksubscription", "webhooks_webhookdelivery", "webhooks_webhooksigningsecret"]
)
def test_changelist_query_count_does_not_grow_with_rows(console, name):
    url = reverse(f"admin:{name}_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = console.get(url)
        assert response.status_code == 200
        return len(captured)

    for _ in range(2):
        make_rows()
    few = queries()
    for _ in range(8):
        make_rows()
    assert queries() == few


def test_change_pages_never_show_the_secret(console):
    secret = make_rows()
    subscription = WebhookDelivery.objects.get().subscription
    for obj in (subscription, WebhookDelivery.objects.get(), subscription.owner.webhook_signing_secret):
        page = console.get(reverse(f"admin:webhooks_{obj._meta.model_name}_change", args=[obj.pk]))
        assert page.status_code == 200
        assert secret not in page.content.decode()
        assert "encrypted_secret" not in page.content.decode()


def test_staff_pause_and_resume_through_the_service(console):
    from audit.models import AuditEvent
    from webhooks.models import WebhookSubscription

    make_rows()
    subscription = WebhookSubscription.objects.get()
    pending = WebhookDelivery.objects.create(
        owner=subscription.owner,
        subscription=subscription,
        url=subscription.url,
        event="user.quota.exceeded",
        payload={},
        next_attempt_at=timezone.now(),
    )
    url = reverse("admin:webhooks_webhooksubscription_change", args=[subscription.pk])
    response = console.post(url, {"description": "paused by ops"})  # is_active unticked
    assert response.status_code == 302, response.content.decode()[:2000]
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.description) == (False, "paused by ops")
    pending.refresh_from_db()
    assert pending.status == "failed"
    assert AuditEvent.objects.filter(action="webhook.updated", source="admin").exists()
    WebhookSubscription.objects.filter(pk=subscription.pk).update(failure_count=7)
    console.post(url, {"description": "", "is_active": "on"})
    subscription.refresh_from_db()
    assert (subscription.is_active, subscription.failure_count) == (True, 0)
