from __future__ import annotations

import pytest
from django.core.cache.backends.redis import RedisCache

from executions.engine import sandbox
from monitoring import checks
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_public_health_is_terse(api_client):
    response = api_client.get("/api/v1/monitoring/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "checks" not in response.json()
    assert "script_isolation" not in response.json()


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


def test_staff_see_the_script_isolation(make_user, settings):
    sandbox.reset()
    client = client_for(make_user(is_staff=True))
    body = client.get("/api/v1/monitoring/health").json()
    assert body["script_isolation"]["mode"] == "bubblewrap"
    assert body["script_isolation"]["available"] is True
    assert "no network" in body["script_isolation"]["detail"]

    settings.FLOWBUILDER_SCRIPT_BWRAP = "/nonexistent/bwrap"
    response = client.get("/api/v1/monitoring/health")
    assert response.status_code == 200  # refused scripts are reported, not an outage
    assert response.json()["script_isolation"]["available"] is False
    assert "bubblewrap is not installed" in response.json()["script_isolation"]["detail"]
    sandbox.reset()
