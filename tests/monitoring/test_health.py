from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCache

from monitoring import checks
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_public_health_is_terse(api_client):
    response = api_client.get("/api/v1/monitoring/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "checks" not in response.json()


def test_staff_see_each_dependency(make_user):
    body = client_for(make_user(is_staff=True)).get("/api/v1/monitoring/health").json()
    assert set(body["checks"]) == {"database", "cache"}
    assert all(check["ok"] and check["response_time_ms"] >= 0 for check in body["checks"].values())


def test_503_when_a_dependency_fails(api_client, monkeypatch, settings):
    # A cache that cannot be reached: a Redis port nobody listens on.
    monkeypatch.setattr(checks, "cache", RedisCache("redis://127.0.0.1:1/0", {}))
    settings.RATE_LIMIT_ENABLED = False
    response = api_client.get("/api/v1/monitoring/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "Connection" in checks.run_checks()[1].error
