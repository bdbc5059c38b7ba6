"""SPEC §2 conventions: the error envelope from every layer, request ids, size and depth limits, rate limits, pagination."""

from __future__ import annotations

import json
import logging

import pytest
from django.test import override_settings
from django.urls import path
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.views import APIView

from accounts.api.serializers import UserSerializer
from accounts.models import User
from flowbuilder.urls import urlpatterns as real_urlpatterns
from tests.clients import client_for

pytestmark = pytest.mark.django_db


def assert_envelope(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    assert isinstance(error["details"], list)
    assert error["request_id"] == response["X-Request-ID"]
    assert error["timestamp"].endswith("Z")
    return error


class Boom(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        raise RuntimeError("secret internals: password=hunter2")


def plain_django_view(request):
    raise RuntimeError("outside DRF")


def _closed_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]  # nothing listens there once the probe is closed


class DeadDatabase(APIView):
    """A real connection attempt to a PostgreSQL that is not there."""

    permission_classes = [AllowAny]

    def get(self, request):
        import psycopg

        psycopg.connect(f"postgresql://postgres@127.0.0.1:{_closed_port()}/x", connect_timeout=2)


class DeadRedis(APIView):
    permission_classes = [AllowAny]

    def get(self, request):
        import redis

        redis.Redis(host="127.0.0.1", port=_closed_port(), socket_connect_timeout=2).ping()


def dead_broker_outside_drf(request):
    from kombu import Connection

    with Connection(f"redis://127.0.0.1:{_closed_port()}/0", connect_timeout=2) as broker:
        broker.ensure_connection(max_retries=1)


class UserList(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = UserSerializer
    queryset = User.objects.order_by("email")


urlpatterns = [
    path("api/v1/test/boom", Boom.as_view()),
    path("api/v1/test/plain", plain_django_view),
    path("api/v1/test/dead-database", DeadDatabase.as_view()),
    path("api/v1/test/dead-redis", DeadRedis.as_view()),
    path("api/v1/test/dead-broker", dead_broker_outside_drf),
    path("api/v1/test/users", UserList.as_view()),
    *real_urlpatterns,
]


@pytest.fixture
def test_urls(settings):
    settings.ROOT_URLCONF = __name__


class TestErrorEnvelope:
    def test_unknown_api_url_is_404_envelope(self, api_client):
        assert_envelope(api_client.get("/api/v1/does-not-exist"), 404, "NOT_FOUND")

    def test_method_not_allowed(self, auth_client):
        assert_envelope(auth_client.delete("/api/v1/auth/me"), 405, "METHOD_NOT_ALLOWED")

    def test_malformed_json(self, api_client):
        response = api_client.post("/api/v1/auth/login", data='{"email": ', content_type="application/json")
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert "JSON parse error" in error["message"]

    def test_nan_is_not_json(self, api_client):
        response = api_client.post("/api/v1/auth/login", data='{"email": NaN}', content_type="application/json")
        assert_envelope(response, 400, "VALIDATION_ERROR")

    def test_unsupported_media_type(self, api_client):
        response = api_client.post("/api/v1/auth/login", data="<x/>", content_type="application/xml")
        assert_envelope(response, 415, "UNSUPPORTED_MEDIA_TYPE")

    def test_500_in_drf_view_leaks_nothing(self, api_client, test_urls, caplog):
        with caplog.at_level(logging.ERROR):
            response = api_client.get("/api/v1/test/boom")
        error = assert_envelope(response, 500, "INTERNAL_ERROR")
        assert "hunter2" not in response.content.decode()
        assert error["message"] == "Internal server error"
        assert any("hunter2" in (r.exc_text or "") or r.exc_info for r in caplog.records)  # logged for operators

    def test_500_outside_drf(self, test_urls):
        from django.test import Client

        response = Client(raise_request_exception=False).get("/api/v1/test/plain")
        assert_envelope(response, 500, "INTERNAL_ERROR")
        assert "outside DRF" not in response.content.decode()

    @pytest.mark.parametrize(
        "url", ["/api/v1/test/dead-database", "/api/v1/test/dead-redis", "/api/v1/test/dead-broker"]
    )
    def test_an_unreachable_dependency_is_a_503_with_retry_after(self, test_urls, url, caplog):
        from django.test import Client

        with caplog.at_level(logging.WARNING):
            response = Client(raise_request_exception=False).get(url)
        error = assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
        assert error["reason"] == "DEPENDENCY_UNAVAILABLE"
        assert response["Retry-After"] == "2"
        assert not [r for r in caplog.records if r.exc_info]  # overload is not a bug: no traceback logged

    def test_rate_limits_fail_open_when_the_cache_is_unreachable(self, test_urls, settings, caplog):
        from django.test import Client

        settings.RATE_LIMIT_ENABLED = True
        dead = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": f"redis://127.0.0.1:{_closed_port()}/0",
                "OPTIONS": {"socket_connect_timeout": 1},
            }
        }
        with override_settings(CACHES=dead), caplog.at_level(logging.WARNING, logger="flowbuilder.api.throttling"):
            response = Client().get("/api/v1/test/users")
        assert response.status_code == 200, response.content
        assert "Rate limits are not enforced: the cache is unreachable" in caplog.text

    def test_non_api_404_stays_html(self, client):
        response = client.get("/no-such-page")
        assert response.status_code == 404
        assert not response["Content-Type"].startswith("application/json")


class TestRequestId:
    def test_generated_when_missing(self, api_client):
        response = api_client.get("/api/v1/monitoring/health")
        assert len(response["X-Request-ID"]) == 32

    def test_client_id_is_echoed_into_errors(self, api_client):
        response = api_client.get("/api/v1/nope", HTTP_X_REQUEST_ID="trace-abc.123")
        assert response["X-Request-ID"] == "trace-abc.123"
        assert response.json()["error"]["request_id"] == "trace-abc.123"

    def test_unsafe_client_id_is_replaced(self, api_client):
        response = api_client.get("/api/v1/monitoring/health", HTTP_X_REQUEST_ID="bad id\nwith newline")
        assert response["X-Request-ID"] != "bad id\nwith newline"
        assert len(response["X-Request-ID"]) == 32

    def test_request_id_in_logs(self, api_client, test_urls, caplog):
        with caplog.at_level(logging.ERROR):
            api_client.get("/api/v1/test/boom", HTTP_X_REQUEST_ID="log-me-42")
        from flowbuilder.api.middleware import RequestIDLogFilter

        record = next(r for r in caplog.records if r.levelno >= logging.ERROR)
        RequestIDLogFilter().filter(record)
        assert record.request_id == "log-me-42"


class TestBodyLimits:
    def test_declared_length_over_limit_is_413(self, api_client, settings):
        settings.API_MAX_BODY_BYTES = 1000
        body = json.dumps({"email": "a@example.com", "password": "x" * 2000})
        response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
        assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")

    def test_default_limit_is_2_mb(self, api_client):
        body = json.dumps({"email": "a@example.com", "password": "x" * (2 * 1024 * 1024)})
        response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
        assert_envelope(response, 413, "PAYLOAD_TOO_LARGE")

    def test_a_form_with_too_many_fields_is_400_not_500(self, auth_client):
        # Found by the fuzzer once definitions had a schema: a definition spelt out as 1,500 form fields.
        body = "name=x&" + "&".join(["nodes=id"] * 1500)
        response = auth_client.post("/api/v1/workflows", data=body, content_type="application/x-www-form-urlencoded")
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert "as JSON" in error["message"]

    def test_deep_nesting_is_400_not_recursion_error(self, api_client):
        body = "[" * 100_000 + "]" * 100_000
        response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
        error = assert_envelope(response, 400, "VALIDATION_ERROR")
        assert "nested" in error["message"]

    def test_moderate_nesting_over_limit(self, api_client):
        body = json.dumps({"email": "a@example.com", "password": "p", "x": json.loads("[" * 70 + "]" * 70)})
        response = api_client.post("/api/v1/auth/login", data=body, content_type="application/json")
        assert_envelope(response, 400, "VALIDATION_ERROR")


class TestRateLimits:
    def test_headers_on_every_response(self, auth_client):
        first = auth_client.get("/api/v1/auth/me")
        second = auth_client.get("/api/v1/auth/me")
        assert first["X-RateLimit-Limit"] == "100"
        assert int(first["X-RateLimit-Remaining"]) == 99
        assert int(second["X-RateLimit-Remaining"]) == 98
        assert int(first["X-RateLimit-Reset"]) > 0

    def test_429_with_retry_after(self, auth_client, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": ["3/minute", "1000/hour"]}
        statuses = [auth_client.get("/api/v1/auth/me").status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        response = auth_client.get("/api/v1/auth/me")
        assert_envelope(response, 429, "RATE_LIMIT_EXCEEDED")
        assert 0 < int(response["Retry-After"]) <= 60
        assert response["X-RateLimit-Remaining"] == "0"

    def test_limits_are_per_user(self, make_user, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": ["2/minute"]}
        alice, bob = client_for(make_user()), client_for(make_user())
        assert [alice.get("/api/v1/auth/me").status_code for _ in range(3)] == [200, 200, 429]
        assert bob.get("/api/v1/auth/me").status_code == 200

    def test_anonymous_limited_per_ip(self, api_client, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "default": ["2/minute"]}
        statuses = [api_client.get("/api/v1/monitoring/health").status_code for _ in range(3)]
        assert statuses == [200, 200, 429]
        other_ip = api_client.get("/api/v1/monitoring/health", REMOTE_ADDR="10.1.2.3")
        assert other_ip.status_code == 200


class TestPagination:
    @pytest.fixture
    def users(self, make_user, test_urls):
        return [make_user(email=f"p{i:02d}@example.com") for i in range(45)]

    def test_shape(self, api_client, users):
        body = api_client.get("/api/v1/test/users").json()
        assert {k: body[k] for k in ("total", "page", "size", "pages")} == {
            "total": 45,
            "page": 1,
            "size": 20,
            "pages": 3,
        }
        assert len(body["items"]) == 20

    def test_size_and_alias(self, api_client, users):
        assert api_client.get("/api/v1/test/users?size=10&page=5").json()["items"][0]["email"] == "p40@example.com"
        assert api_client.get("/api/v1/test/users?page_size=7").json()["size"] == 7
        assert api_client.get("/api/v1/test/users?size=100").json()["size"] == 100

    @pytest.mark.parametrize("query", ["size=101", "size=1000000", "page_size=101"])
    def test_a_size_over_the_maximum_is_refused_not_clamped(self, api_client, users, query):
        error = assert_envelope(api_client.get(f"/api/v1/test/users?{query}"), 400, "VALIDATION_ERROR")
        assert error["details"] == [
            {"field": query.split("=")[0], "message": f"'{query.split('=')[0]}' may be at most 100"}
        ]

    def test_past_the_end_is_empty(self, api_client, users):
        body = api_client.get("/api/v1/test/users?page=9").json()
        assert body["items"] == []
        assert body["total"] == 45

    @pytest.mark.parametrize("query", ["page=0", "page=abc", "size=-1", "page_size=x"])
    def test_bad_parameters(self, api_client, users, query):
        error = assert_envelope(api_client.get(f"/api/v1/test/users?{query}"), 400, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == query.split("=")[0]


class TestCors:
    @override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
    def test_allowed_origin_gets_headers(self, api_client):
        response = api_client.options(
            "/api/v1/auth/login",
            HTTP_ORIGIN="https://app.example.com",
            HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        )
        assert response["Access-Control-Allow-Origin"] == "https://app.example.com"

    @override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
    def test_other_origin_gets_none(self, api_client):
        response = api_client.get("/api/v1/monitoring/health", HTTP_ORIGIN="https://evil.example.com")
        assert "Access-Control-Allow-Origin" not in response


class TestListParameters:
    """A list's query parameters are the documented ones: a misspelt filter is a 400, not an unfiltered list."""

    @pytest.mark.parametrize(
        ("url", "query", "field", "message"),
        [
            ("/api/v1/executions", "stauts=failed", "stauts", "Unknown query parameter 'stauts'; this list takes: "),
            ("/api/v1/workflows", "is_actve=true", "is_actve", "Unknown query parameter 'is_actve'"),
            ("/api/v1/workflows", "ordering=passwd", "ordering", "Cannot order by 'passwd'; use one of: name, "),
            ("/api/v1/executions", "ordering=-started_at,nope", "ordering", "Cannot order by 'nope'"),
            ("/api/v1/executions", "status=bogus", "status", "bogus"),
            ("/api/v1/credentials", "type=bogus", "type", "bogus"),
        ],
    )
    def test_unknown_or_malformed_is_a_400_at_the_parameter(self, auth_client, url, query, field, message):
        error = assert_envelope(auth_client.get(f"{url}?{query}"), 400, "VALIDATION_ERROR")
        assert error["details"][0]["field"] == field
        assert message in error["details"][0]["message"]

    def test_documented_ones_still_work(self, auth_client, user):
        from integrations.services import credential_create

        credential_create(owner=user, name="a", type="http_bearer", data={"token": "t-1234567890"})
        credential_create(owner=user, name="b", type="http_basic", data={"username": "u", "password": "p-12345678"})
        body = auth_client.get("/api/v1/credentials?type=http_bearer&page=1&page_size=5&format=json").json()
        assert [c["name"] for c in body["items"]] == ["a"]
        ordered = auth_client.get("/api/v1/executions?ordering=-started_at&status=completed&size=5")
        assert ordered.status_code == 200
