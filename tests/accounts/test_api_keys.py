"""API keys: shown once, stored hashed, scoped, expiring, revocable, last use recorded."""

from __future__ import annotations

import hashlib
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.models import ApiKey
from tests.clients import client_for

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/api-keys"


def key_client(raw: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client


def test_create_shows_key_once_and_stores_only_a_digest(auth_client, user):
    response = auth_client.post(KEYS, {"name": "ci", "scopes": ["workflow:read"]}, format="json")
    assert response.status_code == 201, response.content
    raw = response.json()["key"]
    assert raw.startswith("fbk_")
    stored = ApiKey.objects.get(pk=response.json()["id"])
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw not in str(ApiKey.objects.filter(pk=stored.pk).values().first())
    listed = auth_client.get(KEYS).json()
    assert listed["total"] == 1
    assert "key" not in listed["items"][0]
    assert listed["items"][0]["key_preview"].endswith("_…")


def test_key_authenticates_with_its_scopes(auth_client, user):
    raw = auth_client.post(KEYS, {"name": "ci", "scopes": ["workflow:read"]}, format="json").json()["key"]
    me = key_client(raw).get("/api/v1/auth/me")
    assert me.status_code == 200
    assert me.json()["email"] == user.email
    key = ApiKey.objects.get()
    assert key.last_used_at is not None
    # A key cannot mint a key with more than its own scopes.
    escalate = key_client(raw).post(KEYS, {"name": "more", "scopes": ["credential:write"]}, format="json")
    assert escalate.status_code == 403
    assert escalate.json()["error"]["code"] == "FORBIDDEN"


def test_default_scopes_are_the_users_permissions(make_user):
    viewer = make_user(role="viewer")
    body = client_for(viewer).post(KEYS, {"name": "all"}, format="json").json()
    assert body["scopes"] == [
        "analytics:read",
        "api_key:write",
        "execution:approve",
        "execution:read",
        "file:read",
        "log:read",
        "template:read",
        "workflow:read",
    ]


def test_scopes_beyond_the_role_are_refused(make_user):
    viewer = make_user(role="viewer")
    response = client_for(viewer).post(KEYS, {"name": "x", "scopes": ["workflow:delete"]}, format="json")
    assert response.status_code == 403
    assert not ApiKey.objects.exists()


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"name": "x", "scopes": ["workflow:fly"]}, "scopes[0]"),
        ({"scopes": ["workflow:read"]}, "name"),
        ({"name": "x", "expires_at": "yesterday"}, "expires_at"),
        ({"name": "x", "expires_at": "2001-01-01T00:00:00Z"}, "expires_at"),
        ({"name": "x", "scopes": "workflow:read"}, "scopes"),
    ],
)
def test_bad_input(auth_client, payload, field):
    response = auth_client.post(KEYS, payload, format="json")
    assert response.status_code == 400, response.content
    assert response.json()["error"]["details"][0]["field"] == field
    assert not ApiKey.objects.exists()


def test_revoked_expired_and_unknown_keys_are_401(auth_client):
    raw = auth_client.post(KEYS, {"name": "ci"}, format="json").json()["key"]
    key = ApiKey.objects.get()
    assert auth_client.delete(f"{KEYS}/{key.pk}").status_code == 204
    assert key_client(raw).get("/api/v1/auth/me").status_code == 401
    assert auth_client.get(KEYS).json()["total"] == 0

    soon = (timezone.now() + timedelta(hours=1)).isoformat()
    raw2 = auth_client.post(KEYS, {"name": "short", "expires_at": soon}, format="json").json()["key"]
    assert key_client(raw2).get("/api/v1/auth/me").status_code == 200
    with freeze_time(timedelta(hours=2)):
        assert key_client(raw2).get("/api/v1/auth/me").status_code == 401

    assert key_client(raw2[:-3] + "abc").get("/api/v1/auth/me").status_code == 401
    assert key_client("fbk_nothing").get("/api/v1/auth/me").status_code == 401
    assert key_client("garbage").get("/api/v1/auth/me").status_code == 401


def test_other_users_key_is_404(auth_client, make_user):
    other = client_for(make_user())
    other.post(KEYS, {"name": "theirs"}, format="json")
    theirs = ApiKey.objects.get()
    assert auth_client.delete(f"{KEYS}/{theirs.pk}").status_code == 404
    assert auth_client.delete(f"{KEYS}/not-a-uuid").status_code == 404
    theirs.refresh_from_db()
    assert theirs.revoked_at is None


def test_last_used_is_written_at_most_once_a_minute(auth_client, django_assert_num_queries):
    raw = auth_client.post(KEYS, {"name": "ci"}, format="json").json()["key"]
    client = key_client(raw)
    client.get("/api/v1/auth/me")
    first_use = ApiKey.objects.get().last_used_at
    client.get("/api/v1/auth/me")
    assert ApiKey.objects.get().last_used_at == first_use
    with freeze_time(timedelta(minutes=2)):
        client.get("/api/v1/auth/me")
    assert ApiKey.objects.get().last_used_at > first_use


def test_create_api_key_command(user, capsys):
    call_command("create_api_key", user.email, "--name", "ops", "--scope", "workflow:read")
    raw = capsys.readouterr().out.strip()
    assert key_client(raw).get("/api/v1/auth/me").json()["email"] == user.email
    assert ApiKey.objects.get().scopes == ["workflow:read"]
