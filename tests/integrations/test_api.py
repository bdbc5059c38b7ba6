"""The credentials and integrations API: write-only data, masked hints, ownership, permissions, bad input."""

from __future__ import annotations

import json

import pytest

from accounts.services import guest_session_create
from integrations.models import Credential, Integration
from integrations.services import credential_data
from tests.clients import client_for

pytestmark = pytest.mark.django_db

SECRET = "sk-live-abcdefghijklmnop-1234"


def create(client, **body):
    return client.post("/api/v1/credentials", body, format="json")


def fields_of(response) -> dict[str, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


def test_create_list_retrieve_never_show_data(auth_client, user):
    response = create(
        auth_client,
        name="OpenAI",
        type="openai_compatible",
        data={"base_url": "https://api.openai.com/v1", "api_key": SECRET},
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert set(body) == {"id", "name", "type", "hint", "created_at", "updated_at", "last_used_at"}
    assert body["hint"] == "••••1234"
    for url in ("/api/v1/credentials", f"/api/v1/credentials/{body['id']}"):
        response = auth_client.get(url)
        assert response.status_code == 200
        assert SECRET not in response.content.decode()
        assert "api.openai.com" not in response.content.decode()  # no part of data, secret or not
    listing = auth_client.get("/api/v1/credentials?type=openai_compatible").json()
    assert listing["total"] == 1
    assert listing["items"][0]["id"] == body["id"]
    assert auth_client.get("/api/v1/credentials?type=smtp").json()["total"] == 0
    assert credential_data(Credential.objects.get(pk=body["id"]))["api_key"] == SECRET


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ({"name": "x", "type": "nope", "data": {}}, {"type"}),
        ({"name": "x", "type": "http_basic", "data": {"username": "u"}}, {"data.password"}),
        ({"name": "x", "type": "http_basic", "data": {"username": "u", "password": "p", "extra": 1}}, {"data.extra"}),
        ({"name": "x", "type": "api_key", "data": {"name": "X-Key", "value": "v", "in": "body"}}, {"data.in"}),
        ({"name": "x", "type": "http_bearer", "data": {"token": "a\r\nX-Injected: 1"}}, {"data.token"}),
        (
            {"name": "x", "type": "smtp", "data": {"host": "smtp.example.com", "port": 70000, "from_email": "a@b.c"}},
            {"data.port"},
        ),
        ({"name": "x", "type": "smtp", "data": {"host": "h", "port": 25, "from_email": "nobody"}}, {"data.from_email"}),
        ({"name": "x", "type": "slack_webhook", "data": {"url": "javascript:alert(1)"}}, {"data.url"}),
        ({"name": "x", "type": "hmac_secret", "data": {"secret": "short"}}, {"data.secret"}),
        ({"name": "x", "type": "http_bearer", "data": ["token"]}, {"data"}),
        ({"type": "http_bearer", "data": {"token": "t"}}, {"name"}),
    ],
)
def test_bad_input_names_the_field(auth_client, body, expected):
    response = create(auth_client, **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "VALIDATION_ERROR"
    assert expected <= set(fields_of(response)), response.json()


def test_names_are_unique_per_owner(auth_client, make_user):
    assert create(auth_client, name="A", type="http_bearer", data={"token": "t1"}).status_code == 201
    response = create(auth_client, name="A", type="http_bearer", data={"token": "t2"})
    assert response.status_code == 400
    assert "name" in fields_of(response)
    other = client_for(make_user())
    assert create(other, name="A", type="http_bearer", data={"token": "t3"}).status_code == 201


def test_patch_merges_data_and_keeps_the_type(auth_client):
    created = create(
        auth_client,
        name="Mail",
        type="smtp",
        data={"host": "smtp.example.com", "port": 587, "from_email": "a@example.com"},
    ).json()
    url = f"/api/v1/credentials/{created['id']}"
    response = auth_client.patch(
        url, {"name": "Mail 2", "data": {"username": "me", "password": "new-password-1234"}}, format="json"
    )
    assert response.status_code == 200, response.json()
    assert (response.json()["name"], response.json()["hint"]) == ("Mail 2", "••••1234")
    data = credential_data(Credential.objects.get(pk=created["id"]))
    assert data == {
        "host": "smtp.example.com",
        "port": 587,
        "from_email": "a@example.com",
        "username": "me",
        "password": "new-password-1234",
    }
    response = auth_client.patch(url, {"data": {"username": None, "password": None}}, format="json")
    assert response.status_code == 200
    assert response.json()["hint"] == ""
    assert "password" not in credential_data(Credential.objects.get(pk=created["id"]))
    response = auth_client.patch(url, {"data": {"port": "x"}}, format="json")
    assert response.status_code == 400
    assert "data.port" in fields_of(response)
    response = auth_client.patch(url, {"type": "http_bearer"}, format="json")
    assert response.status_code == 400
    assert "type" in fields_of(response)
    assert auth_client.put(url, {"name": "x"}, format="json").status_code == 405


def test_another_users_credential_is_not_found(auth_client, make_user):
    other = client_for(make_user())
    created = create(other, name="Theirs", type="http_bearer", data={"token": "their-token"}).json()
    url = f"/api/v1/credentials/{created['id']}"
    for response in (
        auth_client.get(url),
        auth_client.patch(url, {"name": "mine now"}, format="json"),
        auth_client.delete(url),
        auth_client.post(f"{url}/test", {}, format="json"),
    ):
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "NOT_FOUND"
    assert auth_client.get("/api/v1/credentials/not-a-uuid").status_code == 404
    assert Credential.objects.filter(pk=created["id"], name="Theirs").exists()


def test_delete(auth_client):
    created = create(auth_client, name="A", type="http_bearer", data={"token": "t"}).json()
    assert auth_client.delete(f"/api/v1/credentials/{created['id']}").status_code == 204
    assert not Credential.objects.filter(pk=created["id"]).exists()


def test_guests_cannot_store_credentials(api_client):
    pair = guest_session_create()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {pair.access_token}")
    response = create(api_client, name="A", type="http_bearer", data={"token": "t"})
    assert response.status_code == 403
    assert api_client.get("/api/v1/credentials").status_code == 403
    assert not Credential.objects.exists()


def test_viewers_and_operators(make_user):
    viewer, operator = client_for(make_user(role="viewer")), client_for(make_user(role="operator"))
    assert viewer.get("/api/v1/credentials").status_code == 403
    assert operator.get("/api/v1/credentials").status_code == 200
    assert create(operator, name="A", type="http_bearer", data={"token": "t"}).status_code == 403


def test_anonymous_gets_401(api_client):
    assert api_client.get("/api/v1/credentials").status_code == 401


# --- integrations ------------------------------------------------------------------------------


def test_integrations_crud(auth_client, make_credential, user):
    credential = make_credential("slack_webhook", {"url": "https://hooks.slack.com/services/T/B/X"})
    response = auth_client.post(
        "/api/v1/integrations",
        {"type": "slack", "name": "Team Slack", "settings": {"channel": "#ops"}, "credential": str(credential.pk)},
        format="json",
    )
    assert response.status_code == 201, response.json()
    body = response.json()
    assert (body["credential"], body["credential_type"], body["settings"]) == (
        str(credential.pk),
        "slack_webhook",
        {"channel": "#ops"},
    )
    assert "hooks.slack.com" not in json.dumps(body)
    url = f"/api/v1/integrations/{body['id']}"
    assert auth_client.get("/api/v1/integrations").json()["total"] == 1
    response = auth_client.patch(url, {"name": "Renamed", "credential": None}, format="json")
    assert response.status_code == 200
    assert response.json()["credential"] is None
    assert response.json()["name"] == "Renamed"
    assert auth_client.get(url).json()["settings"] == {"channel": "#ops"}
    assert auth_client.delete(url).status_code == 204
    assert not Integration.objects.exists()


def test_integration_refuses_another_users_credential(auth_client, make_credential, make_user):
    theirs = make_credential("http_bearer", {"token": "t"}, owner=make_user())
    response = auth_client.post(
        "/api/v1/integrations", {"type": "github", "name": "GH", "credential": str(theirs.pk)}, format="json"
    )
    assert response.status_code == 400
    assert fields_of(response) == {"credential": "Credential not found"}
    mine = auth_client.post("/api/v1/integrations", {"type": "github", "name": "GH"}, format="json").json()
    response = auth_client.patch(f"/api/v1/integrations/{mine['id']}", {"credential": str(theirs.pk)}, format="json")
    assert response.status_code == 400
    assert "credential" in fields_of(response)


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"type": "Not A Slug", "name": "x"}, "type"),
        ({"type": "slack", "name": "x", "settings": [1]}, "settings"),
        ({"type": "slack"}, "name"),
    ],
)
def test_integration_bad_input(auth_client, body, field):
    response = auth_client.post("/api/v1/integrations", body, format="json")
    assert response.status_code == 400
    assert field in fields_of(response)


def test_another_users_integration_is_not_found(auth_client, make_user):
    other = client_for(make_user())
    theirs = other.post("/api/v1/integrations", {"type": "slack", "name": "S"}, format="json").json()
    assert auth_client.get(f"/api/v1/integrations/{theirs['id']}").status_code == 404
    assert auth_client.delete(f"/api/v1/integrations/{theirs['id']}").status_code == 404


def test_credential_types_catalog(auth_client):
    types = {t["type"]: t for t in auth_client.get("/api/v1/credential-types").json()}
    assert set(types) == {value for value, _ in Credential.Type.choices}
    assert types["smtp"]["schema"]["required"] == ["host", "port", "from_email"]
    assert types["oauth2_token"]["secret_fields"] == ["access_token", "refresh_token", "client_secret"]
