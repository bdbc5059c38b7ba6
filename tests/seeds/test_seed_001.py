"""Seed 001's paths, written with their trailing slash, served as without it: every method, no redirect."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from tests.workflows.helpers import simple_definition

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


def test_the_seed_001_walkthrough_with_trailing_slashes(celery_worker):
    client = APIClient()
    registered = client.post(
        f"{BASE}/auth/register/", {"email": "seed1@example.com", "password": "a-long-passphrase-1"}, format="json"
    )
    assert registered.status_code == 201, registered.content
    # OAuth2PasswordRequestForm: form-encoded username and password.
    token = client.post(f"{BASE}/auth/token/", {"username": "seed1@example.com", "password": "a-long-passphrase-1"})
    assert token.status_code == 200, token.content
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token.json()['access_token']}")
    me = client.get(f"{BASE}/auth/me/")
    assert (me.status_code, me.json()["email"]) == (200, "seed1@example.com")
    assert client.get(f"{BASE}/users/{me.json()['id']}/").status_code == 200

    created = client.post(f"{BASE}/workflows/", {"name": "wf", "definition": simple_definition()}, format="json")
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]
    assert client.get(f"{BASE}/workflows/").json()["total"] == 1
    assert client.get(f"{BASE}/workflows/{workflow_id}/").status_code == 200
    put = client.put(
        f"{BASE}/workflows/{workflow_id}/", {"name": "renamed", "definition": simple_definition()}, format="json"
    )
    assert (put.status_code, put.json()["name"]) == (200, "renamed")

    tried = client.post(f"{BASE}/test/execute/{workflow_id}/", {"trigger_data": {"n": 1}}, format="json")
    assert tried.status_code in (200, 201, 202), tried.content
    assert client.get(f"{BASE}/workflows/{workflow_id}/runs/").status_code == 200
    parsed = client.post(
        f"{BASE}/test/parse/", {"text": "Every day at 9am fetch https://example.com/data"}, format="json"
    )
    assert parsed.status_code == 200, parsed.content

    integration = client.post(f"{BASE}/integrations/", {"type": "slack", "name": "team"}, format="json")
    assert integration.status_code == 201, integration.content
    assert client.get(f"{BASE}/integrations/").status_code == 200
    assert client.delete(f"{BASE}/integrations/{integration.json()['id']}/").status_code == 204
    assert client.delete(f"{BASE}/workflows/{workflow_id}/").status_code == 204


def test_no_redirects_and_unknown_paths_stay_404(auth_client):
    for method in ("get", "post", "put", "delete"):
        response = getattr(auth_client, method)(f"{BASE}/workflows/")
        assert response.status_code not in (301, 302, 307, 308)
    missing = auth_client.get(f"{BASE}/no-such-thing/")
    assert (missing.status_code, missing.json()["error"]["code"]) == (404, "NOT_FOUND")
