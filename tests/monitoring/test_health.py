from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.cache.backends.redis import RedisCache

from executions.engine import sandbox
from monitoring import checks
from monitoring.selectors import WORKERS_CACHE_KEY
from tests.clients import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/monitoring/health"
CLOSED = "redis://127.0.0.1:1/0"  # a port nobody listens on


@pytest.fixture(autouse=True)
def _no_rate_limit(settings):
    settings.RATE_LIMIT_ENABLED = False


def test_public_health_is_terse(api_client):
    response = api_client.get(URL)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
    assert "checks" not in response.json()


def test_staff_see_each_dependency(make_user):
    cache.set(WORKERS_CACHE_KEY, ["w1@host"], 30)  # as if a ping had just answered
    body = client_for(make_user(is_staff=True)).get(URL).json()
    assert set(body["checks"]) == {"database", "cache", "broker", "channel_layer", "workers", "script_isolation"}
    assert body["status"] == "ok"
    for check in body["checks"].values():
        assert check["ok"], check
        assert check["response_time_ms"] >= 0
    assert body["checks"]["broker"]["detail"] == {"transport": "redis"}
    assert body["checks"]["workers"]["detail"] == {"count": 1, "names": ["w1@host"]}
    assert body["checks"]["workers"]["critical"] is False
    assert body["checks"]["script_isolation"]["detail"]["mode"] == "bubblewrap"
    assert body["checks"]["script_isolation"]["critical"] is False


def test_staff_see_the_database_pool_of_the_process(make_user):
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")  # make test runs on PostgreSQL
    detail = client_for(make_user(is_staff=True)).get(URL).json()["checks"]["database"]["detail"]
    assert detail["pool_max_size"] == 10
    assert 1 <= detail["pool_size"] <= 10
    assert 0 <= detail["pool_available"] <= detail["pool_size"]
    assert detail["requests_waiting"] == 0


def test_staff_see_why_scripts_are_refused(make_user, settings):
    cache.set(WORKERS_CACHE_KEY, ["w1@host"], 30)
    settings.FLOWBUILDER_SCRIPT_BWRAP = "/nonexistent/bwrap"
    try:
        response = client_for(make_user(is_staff=True)).get(URL)
    finally:
        sandbox.reset()
    assert response.status_code == 200  # not an outage: script steps fail with the reason
    assert response.json()["status"] == "degraded"
    isolation = response.json()["checks"]["script_isolation"]
    assert isolation["ok"] is False
    assert "scripts are refused: bubblewrap is not installed (/nonexistent/bwrap not found)" in isolation["error"]


def test_no_workers_is_degraded_not_down(make_user, api_client):
    cache.set(WORKERS_CACHE_KEY, [], 30)
    response = client_for(make_user(is_staff=True)).get(URL)
    assert response.status_code == 200
    assert response.json()["status"] == "degraded"
    assert response.json()["checks"]["workers"]["error"] == "RuntimeError: no worker answered"
    assert api_client.get(URL).json()["status"] == "ok"  # the public answer does not ask the workers


def test_503_when_the_cache_is_down(api_client, monkeypatch):
    monkeypatch.setattr(checks, "cache", RedisCache(CLOSED, {}))
    response = api_client.get(URL)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    assert "Connection" in checks.run_checks()[1].error


def test_503_when_the_broker_is_down(api_client, make_user, settings):
    settings.CELERY_BROKER_URL = CLOSED
    response = api_client.get(URL)
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"
    staff = client_for(make_user(is_staff=True)).get(URL)
    assert staff.status_code == 503
    broker = staff.json()["checks"]["broker"]
    assert broker["ok"] is False
    assert broker["critical"] is True
    assert "Connection" in broker["error"] or "connect" in broker["error"].lower()
    assert staff.json()["checks"]["database"]["ok"] is True


def test_503_when_the_channel_layer_is_down(api_client, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": [CLOSED]}}
    }
    response = api_client.get(URL)
    assert response.status_code == 503
    failed = {r.name for r in checks.run_checks() if not r.ok}
    assert failed == {"channel_layer"}


def test_in_memory_channel_layer_round_trip(settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "flowbuilder.channel_layers.ThreadSafeInMemoryChannelLayer"}}
    result = next(r for r in checks.run_checks() if r.name == "channel_layer")
    assert result.ok, result.error
