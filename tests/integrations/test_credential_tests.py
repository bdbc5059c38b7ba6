"""``POST /credentials/{id}/test``: each type checked against a real local peer."""

from __future__ import annotations

import pytest

from integrations.models import Credential
from integrations.services import credential_data
from tests.integrations.servers import (
    BASIC_PASSWORD,
    BASIC_USER,
    OPENAI_KEY,
    SMTP_PASSWORD,
    SMTP_USER,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


def run_test(client, credential, **body) -> dict:
    response = client.post(f"/api/v1/credentials/{credential.pk}/test", body, format="json")
    assert response.status_code == 200, response.json()
    return response.json()


def smtp_data(smtp_server, **extra) -> dict:
    return {
        "host": smtp_server.host,
        "port": smtp_server.port,
        "from_email": "flows@example.com",
        "use_tls": False,
        **extra,
    }


def test_smtp_login(auth_client, make_credential, smtp_server):
    good = make_credential("smtp", smtp_data(smtp_server, username=SMTP_USER, password=SMTP_PASSWORD))
    result = run_test(auth_client, good)
    assert result["ok"] is True, result
    assert f"logged in as {SMTP_USER}" in result["message"]
    assert Credential.objects.get(pk=good.pk).last_used_at is not None

    bad = make_credential("smtp", smtp_data(smtp_server, username=SMTP_USER, password="wrong-password"))
    result = run_test(auth_client, bad)
    assert result["ok"] is False
    assert "rejected the username or password" in result["message"]
    assert "wrong-password" not in str(result)


def test_smtp_insists_on_starttls_unless_told_otherwise(auth_client, make_credential, smtp_server):
    """A password never crosses the network in the clear by omission: use_tls defaults to on."""
    data = smtp_data(smtp_server, username=SMTP_USER, password=SMTP_PASSWORD)
    del data["use_tls"]
    result = run_test(auth_client, make_credential("smtp", data))
    assert result["ok"] is False
    assert "STARTTLS" in result["message"]


def test_smtp_unreachable(auth_client, make_credential, target_server):
    closed = make_credential("smtp", {"host": "127.0.0.1", "port": 1, "from_email": "a@example.com", "use_tls": False})
    result = run_test(auth_client, closed)
    assert result["ok"] is False
    assert "Could not connect" in result["message"]


def test_smtp_host_behind_the_guard(auth_client, make_credential, internal_server):
    internal = make_credential(
        "smtp", {"host": "127.0.0.2", "port": internal_server.port, "from_email": "a@example.com"}
    )
    result = run_test(auth_client, internal)
    assert result["ok"] is False
    assert "loopback" in result["message"]
    assert result["details"]["refused"]


@pytest.mark.parametrize(
    ("kind", "data", "path"),
    [
        ("http_basic", {"username": BASIC_USER, "password": BASIC_PASSWORD}, "/basic"),
        ("http_bearer", {"token": "bearer-token-0123456789"}, "/bearer"),
        ("api_key", {"name": "X-Api-Key", "value": "key-0123456789abcdef"}, "/apikey"),
        ("api_key", {"name": "api_key", "value": "key-0123456789abcdef", "in": "query"}, "/apikey"),
    ],
)
def test_http_credentials_against_their_test_url(auth_client, make_credential, target_server, kind, data, path):
    good = make_credential(kind, {**data, "test_url": target_server.url(path)})
    result = run_test(auth_client, good)
    assert result["ok"] is True, result
    assert result["details"]["status"] == 200

    secret_field = {"http_basic": "password", "http_bearer": "token", "api_key": "value"}[kind]
    bad = make_credential(kind, {**data, secret_field: "wrong-secret-value", "test_url": target_server.url(path)})
    result = run_test(auth_client, bad)
    assert result["ok"] is False
    assert "rejected the credential" in result["message"]
    assert "wrong-secret-value" not in str(result)


def test_http_credential_without_test_url_cannot_be_tested(auth_client, make_credential):
    result = run_test(auth_client, make_credential("http_bearer", {"token": "t"}))
    assert result["ok"] is None
    assert "test_url" in result["message"]


def test_test_url_behind_the_guard(auth_client, make_credential, internal_server):
    credential = make_credential(
        "http_bearer", {"token": "t", "test_url": f"http://2130706434:{internal_server.port}/"}
    )
    result = run_test(auth_client, credential)
    assert result["ok"] is False
    assert "Refused" in result["message"]


def test_oauth2_refresh(auth_client, make_credential, target_server):
    target_server.state["refresh_token"] = "refresh-token-initial-0001"
    credential = make_credential(
        "oauth2_token",
        {
            "access_token": "expired-access-token-0001",
            "refresh_token": "refresh-token-initial-0001",
            "token_url": target_server.url("/oauth/token"),
            "client_id": "flowbuilder",
            "client_secret": "client-secret-0123456789",
        },
    )
    result = run_test(auth_client, credential)
    assert result["ok"] is True, result
    assert result["details"]["refresh_token_rotated"] is True
    stored = credential_data(Credential.objects.get(pk=credential.pk))
    assert stored["access_token"] == "fresh-access-token-0001"
    assert stored["refresh_token"] == "rotated-refresh-token-0001"
    token_request = next(h for h in target_server.hits if h["path"] == "/oauth/token")
    assert "client_secret=client-secret-0123456789" in token_request["body"]
    # The rotated refresh token works next time; the old one would not.
    assert run_test(auth_client, credential)["ok"] is True

    target_server.state["refresh_token"] = "something-else"
    result = run_test(auth_client, credential)
    assert result["ok"] is False
    assert "Unknown refresh token" in result["message"]


def test_openai_compatible_lists_models(auth_client, make_credential, openai_server):
    good = make_credential("openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY})
    result = run_test(auth_client, good)
    assert result["ok"] is True, result
    assert result["details"]["models"] == ["gpt-4o-mini", "test-vision"]
    assert openai_server.hits[-1]["path"] == "/v1/models"

    bad = make_credential("openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": "sk-wrong-key-000000"})
    result = run_test(auth_client, bad)
    assert result["ok"] is False
    assert "API key was rejected" in result["message"]
    assert result["details"]["status"] == 401


def test_slack_posts_only_when_asked(auth_client, make_credential, target_server):
    credential = make_credential("slack_webhook", {"url": target_server.url("/slack/T000/B000/secretpart")})
    result = run_test(auth_client, credential)
    assert result["ok"] is None
    assert '{"post": true}' in result["message"]
    assert target_server.hits == []

    result = run_test(auth_client, credential, post=True)
    assert result["ok"] is True
    assert target_server.state["slack"] == [{"text": "Flowbuilder: test message"}]

    gone = make_credential("slack_webhook", {"url": target_server.url("/slack/T000/B000/gone")})
    result = run_test(auth_client, gone, post=True)
    assert result["ok"] is False
    assert "no_service" in result["message"]


def test_hmac_secret_has_nothing_to_test(auth_client, make_credential):
    result = run_test(auth_client, make_credential("hmac_secret", {"secret": "0123456789abcdef0123"}))
    assert result["ok"] is None


def test_a_refresh_that_lost_the_race_takes_the_winners_tokens(make_credential):
    """Steps that read the same expired token refresh it once: rotating refresh tokens survive concurrency."""
    from integrations.services import credential_refresh

    credential = make_credential(
        "oauth2_token",
        {"access_token": "old-access-0000", "refresh_token": "old-refresh-0000", "token_url": "https://x.example/t"},
    )
    stale = credential_data(credential)
    calls = []

    def refresher(current):
        calls.append(current["refresh_token"])
        return {"access_token": f"new-access-{len(calls):04d}", "refresh_token": f"new-refresh-{len(calls):04d}"}

    first = credential_refresh(
        credential_id=credential.pk, owner_id=credential.owner_id, seen=stale, refresher=refresher
    )
    second = credential_refresh(
        credential_id=credential.pk, owner_id=credential.owner_id, seen=stale, refresher=refresher
    )
    assert first == second
    assert first["access_token"] == "new-access-0001"
    assert calls == ["old-refresh-0000"]
    # Whoever saw the new tokens and still got a 401 refreshes again.
    third = credential_refresh(
        credential_id=credential.pk, owner_id=credential.owner_id, seen=first, refresher=refresher
    )
    assert third["access_token"] == "new-access-0002"
