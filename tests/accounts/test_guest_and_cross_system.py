"""Guest sessions and cross-system tokens."""

from __future__ import annotations

from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core.management import call_command
from freezegun import freeze_time
from rest_framework.test import APIClient

from accounts.models import User
from tests.clients import client_for

pytestmark = pytest.mark.django_db


def guest_client(api_client) -> tuple[APIClient, dict]:
    body = api_client.post("/api/v1/auth/guest").json()
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {body['access_token']}")
    return client, body


class TestGuest:
    def test_guest_has_restricted_role_and_no_refresh(self, api_client):
        client, body = guest_client(api_client)
        assert body["refresh_token"] is None
        assert body["expires_in"] == 3600
        me = client.get("/api/v1/auth/me").json()
        assert me["is_guest"] is True
        assert me["roles"] == ["guest"]
        assert "template:read" in me["permissions"]
        assert not any(p.startswith("credential:") for p in me["permissions"])

    def test_guest_cannot_create_api_keys_or_change_password(self, api_client):
        client, _ = guest_client(api_client)
        assert client.post("/api/v1/api-keys", {"name": "x"}, format="json").status_code == 403
        assert (
            client.post(
                "/api/v1/auth/password", {"current_password": "a", "new_password": "b"}, format="json"
            ).status_code
            == 403
        )

    def test_guest_expires_and_is_cleaned_up(self, api_client):
        client, _ = guest_client(api_client)
        regular = User.objects.create_user("keep@example.com", "a-long-passphrase-1")
        with freeze_time(timedelta(minutes=61)):
            assert client.get("/api/v1/auth/me").status_code == 401
            call_command("cleanup_guests", "--dry-run")
            assert User.objects.filter(is_guest=True).count() == 1
            call_command("cleanup_guests")
        assert not User.objects.filter(is_guest=True).exists()
        assert User.objects.filter(pk=regular.pk).exists()

    def test_guest_cannot_log_in_with_password(self, api_client):
        _, body = guest_client(api_client)
        email = body["user"]["email"]
        response = api_client.post("/api/v1/auth/login", {"email": email, "password": ""}, format="json")
        assert response.status_code in (400, 401)


class TestCrossSystemToken:
    URL = "/api/v1/auth/cross-system-token"

    def test_subset_of_callers_permissions(self, user):
        response = client_for(user).post(
            self.URL, {"target_system": "billing", "permissions": ["workflow:read", "execution:read"]}, format="json"
        )
        assert response.status_code == 201, response.content
        body = response.json()
        claims = jwt.decode(body["token"], settings.CROSS_SYSTEM_SIGNING_KEY, algorithms=["HS256"], audience="billing")
        assert claims["scopes"] == ["execution:read", "workflow:read"]
        assert claims["sub"] == str(user.pk)
        assert claims["exp"] - claims["iat"] == body["expires_in"] == 300

    def test_refuses_permissions_the_caller_lacks(self, make_user):
        viewer = make_user(role="viewer")
        response = client_for(viewer).post(
            self.URL, {"target_system": "billing", "permissions": ["workflow:read", "workflow:delete"]}, format="json"
        )
        assert response.status_code == 403
        assert response.json()["error"]["details"] == [
            {"field": "permissions[1]", "message": "You do not hold 'workflow:delete'"}
        ]

    @pytest.mark.parametrize(
        ("payload", "field"),
        [
            ({"target_system": "billing", "permissions": ["nope:x"]}, "permissions[0]"),
            ({"target_system": "billing", "permissions": []}, "permissions"),
            ({"target_system": "bad system!", "permissions": ["workflow:read"]}, "target_system"),
            ({"permissions": ["workflow:read"]}, "target_system"),
        ],
    )
    def test_bad_input(self, user, payload, field):
        response = client_for(user).post(self.URL, payload, format="json")
        assert response.status_code == 400
        assert response.json()["error"]["details"][0]["field"] == field

    def test_this_api_refuses_the_token(self, user, api_client):
        token = (
            client_for(user)
            .post(self.URL, {"target_system": "billing", "permissions": ["workflow:read"]}, format="json")
            .json()["token"]
        )
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api_client.get("/api/v1/auth/me").status_code == 401
