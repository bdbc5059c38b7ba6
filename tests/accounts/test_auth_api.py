"""Registration, login, tokens, refresh rotation, logout, me: through the real URL conf."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.core import mail
from freezegun import freeze_time

from accounts.models import User
from audit.models import AuditEvent
from tests.clients import client_for
from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
LOGIN = "/api/v1/auth/login"
TOKEN = "/api/v1/auth/token"
REFRESH = "/api/v1/auth/refresh"
LOGOUT = "/api/v1/auth/logout"
ME = "/api/v1/auth/me"
PASSWORD = "/api/v1/auth/password"


def error_fields(response) -> set[str | None]:
    return {detail["field"] for detail in response.json()["error"]["details"]}


def login(api_client, email: str, password: str = DEFAULT_PASSWORD, **extra):
    return api_client.post(LOGIN, {"email": email, "password": password}, format="json", **extra)


class TestRegister:
    @pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the e-mail goes out on commit
    def test_register_creates_an_editor_and_sends_verification(self, api_client):
        response = api_client.post(
            REGISTER,
            {"email": "new@example.com", "password": "a-long-passphrase-1", "first_name": "New", "company": "Acme"},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["email"] == "new@example.com"
        assert body["roles"] == ["editor"]
        assert "workflow:create" in body["permissions"]
        assert "password" not in body
        user = User.objects.get(email="new@example.com")
        assert user.company == "Acme"
        assert user.password.startswith("md5$")  # the test hasher; see test_argon2_in_production
        assert len(mail.outbox) == 1
        assert "verify-email" in mail.outbox[0].body

    def test_then_login_and_me(self, api_client):
        api_client.post(REGISTER, {"email": "flow@example.com", "password": "a-long-passphrase-1"}, format="json")
        response = login(api_client, "FLOW@example.com", "a-long-passphrase-1")
        assert response.status_code == 200, response.content
        tokens = response.json()
        assert tokens["token_type"] == "bearer"
        assert tokens["expires_in"] == 15 * 60
        assert tokens["user"]["email"] == "flow@example.com"
        assert tokens["user"]["last_login"] is not None
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        me = api_client.get(ME)
        assert me.status_code == 200
        assert me.json()["email"] == "flow@example.com"

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the e-mails go out on commit
    def test_a_taken_email_is_answered_like_a_new_one(self, api_client, user):
        """No enumeration: the answer for a registered address (any case) looks like a new account's;
        the address's owner is told by e-mail instead, and nothing is stored."""
        password = "a-long-passphrase-1"
        taken = api_client.post(REGISTER, {"email": user.email.upper(), "password": password}, format="json")
        fresh = api_client.post(REGISTER, {"email": "fresh@example.com", "password": password}, format="json")
        assert (taken.status_code, fresh.status_code) == (201, 201)
        assert set(taken.json()) == set(fresh.json())
        assert taken.json()["roles"] == fresh.json()["roles"] == ["editor"]
        assert taken.json()["permissions"] == fresh.json()["permissions"]
        assert taken.json()["id"] != str(user.pk)
        assert User.objects.filter(email__iexact=user.email).count() == 1
        assert not User.objects.filter(pk=taken.json()["id"]).exists()
        to_owner = [m for m in mail.outbox if m.to == [user.email]]
        assert len(to_owner) == 1
        assert "already" in (to_owner[0].subject + to_owner[0].body).lower()
        assert login(api_client, user.email, password).status_code == 401  # the account was not touched

    @pytest.mark.parametrize(
        ("payload", "fields"),
        [
            ({"email": "not-an-email", "password": "a-long-passphrase-1"}, {"email"}),
            ({"email": "a@example.com", "password": "short"}, {"password"}),
            ({"email": "a@example.com", "password": "12345678901"}, {"password"}),
            ({"email": "a@example.com", "password": "password123"}, {"password"}),
            ({"password": "a-long-passphrase-1"}, {"email"}),
            ({}, {"email", "password"}),
            ({"email": ["a@example.com"], "password": {"x": 1}}, {"email", "password"}),
            ({"email": "a@example.com", "password": "a-long-passphrase-1", "first_name": "x" * 151}, {"first_name"}),
        ],
    )
    def test_bad_input(self, api_client, payload, fields):
        response = api_client.post(REGISTER, payload, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert error_fields(response) == fields
        assert User.objects.count() == 0

    def test_password_similar_to_email_is_weak(self, api_client):
        response = api_client.post(
            REGISTER, {"email": "margaretha@example.com", "password": "margaretha"}, format="json"
        )
        assert response.status_code == 400
        assert error_fields(response) == {"password"}

    def test_argon2_in_production(self, api_client, settings):
        settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
        api_client.post(REGISTER, {"email": "argon@example.com", "password": "a-long-passphrase-1"}, format="json")
        assert User.objects.get(email="argon@example.com").password.startswith("argon2$")


class TestLogin:
    def test_wrong_password_is_401_in_the_envelope(self, api_client, user):
        response = login(api_client, user.email, "wrong-password")
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert response.json()["error"]["message"] == "Invalid e-mail or password"

    def test_unknown_user_is_the_same_401(self, api_client, db):
        response = login(api_client, "nobody@example.com", "whatever-password")
        assert response.status_code == 401
        assert response.json()["error"]["message"] == "Invalid e-mail or password"

    def test_inactive_user_cannot_log_in(self, api_client, make_user):
        user = make_user(is_active=False)
        assert login(api_client, user.email).status_code == 401

    def test_oauth2_password_form(self, api_client, user):
        response = api_client.post(
            TOKEN, {"username": user.email, "password": DEFAULT_PASSWORD, "grant_type": "password"}
        )
        assert response.status_code == 200, response.content
        assert response.json()["token_type"] == "bearer"
        bad = api_client.post(
            TOKEN, {"username": user.email, "password": DEFAULT_PASSWORD, "grant_type": "client_credentials"}
        )
        assert bad.status_code == 400
        assert error_fields(bad) == {"grant_type"}

    def test_brute_force_is_locked_out(self, api_client, user, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": ["100/minute"]}  # let axes, not the rate limit, act
        statuses = [login(api_client, user.email, f"wrong-{i}").status_code for i in range(15)]
        limit = settings.AXES_FAILURE_LIMIT
        assert statuses[: limit - 1] == [401] * (limit - 1)
        assert statuses[limit - 1 :] == [429] * (15 - limit + 1)
        locked = login(api_client, user.email)  # even the right password, while locked out
        assert locked.status_code == 429
        assert locked.json()["error"]["code"] == "RATE_LIMIT_EXCEEDED"
        assert int(locked["Retry-After"]) > 0

    def test_auth_endpoints_are_rate_limited_per_ip(self, api_client, db):
        # Different e-mails each time, so that the per-account lock-out is not what acts.
        statuses = [login(api_client, f"u{i}@example.com", "wrong").status_code for i in range(11)]
        assert statuses[:10] == [401] * 10
        assert statuses[10] == 429


class TestForgedClientAddresses:
    """No proxy in front (NUM_PROXIES=0, the default): X-Forwarded-For is whatever the client wrote."""

    def test_a_new_forwarded_address_per_guess_does_not_escape_the_lock_out(self, api_client, user, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": ["100/minute"]}  # let axes act
        statuses = [
            login(api_client, user.email, f"wrong-{i}", HTTP_X_FORWARDED_FOR=f"198.51.100.{i}").status_code
            for i in range(30)
        ]
        limit = settings.AXES_FAILURE_LIMIT
        assert statuses[: limit - 1] == [401] * (limit - 1)
        assert set(statuses[limit - 1 :]) == {429}
        assert login(api_client, user.email, HTTP_X_FORWARDED_FOR="198.51.100.200").status_code == 429

    def test_a_new_forwarded_address_per_request_does_not_escape_the_rate_limit(self, api_client, db):
        statuses = [
            login(api_client, f"u{i}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}").status_code
            for i in range(11)
        ]
        assert statuses == [401] * 10 + [429]

    def test_the_audit_log_keeps_the_socket_address(self, api_client, user):
        login(api_client, user.email, HTTP_X_FORWARDED_FOR="203.0.113.77", REMOTE_ADDR="192.0.2.10")
        event = AuditEvent.objects.filter(action="auth.login").latest("created_at")
        assert event.ip == "192.0.2.10"

    def test_behind_one_trusted_proxy_its_address_is_used(self, api_client, db, settings):
        settings.NUM_PROXIES = 1
        # The client forged the left part; the proxy appended what it saw (the right part).
        statuses = [
            login(
                api_client, f"v{i}@example.com", "wrong", HTTP_X_FORWARDED_FOR=f"203.0.113.{i}, 192.0.2.{i}"
            ).status_code
            for i in range(11)
        ]
        assert statuses == [401] * 11  # eleven real clients, ten tries each


class TestTokens:
    def tokens(self, api_client, user) -> dict:
        return login(api_client, user.email).json()

    def test_anonymous_is_401(self, api_client, db):
        response = api_client.get(ME)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"
        assert response["WWW-Authenticate"].startswith("Bearer")

    def test_refresh_rotates_and_blacklists(self, api_client, user):
        tokens = self.tokens(api_client, user)
        first = api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
        assert first.status_code == 200, first.content
        assert first.json()["refresh_token"] != tokens["refresh_token"]
        again = api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
        assert again.status_code == 401
        assert "blacklisted" in again.json()["error"]["message"]
        newer = api_client.post(REFRESH, {"refresh_token": first.json()["refresh_token"]}, format="json")
        assert newer.status_code == 200

    def test_logout_blacklists_the_refresh_token(self, api_client, user):
        tokens = self.tokens(api_client, user)
        assert api_client.post(LOGOUT, {"refresh_token": tokens["refresh_token"]}, format="json").status_code == 204
        response = api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json")
        assert response.status_code == 401

    def test_access_token_is_not_a_refresh_token(self, api_client, user):
        tokens = self.tokens(api_client, user)
        response = api_client.post(REFRESH, {"refresh_token": tokens["access_token"]}, format="json")
        assert response.status_code == 401

    def test_expired_access_token(self, api_client, user):
        tokens = self.tokens(api_client, user)
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        with freeze_time(timedelta(minutes=16)):
            response = api_client.get(ME)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "UNAUTHORIZED"

    def test_forged_signature(self, api_client, user):
        tokens = self.tokens(api_client, user)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
        forged = jwt.encode(claims, "not-the-secret-key-but-long-enough-for-hs256", algorithm="HS256")
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {forged}")
        assert api_client.get(ME).status_code == 401

    def test_alg_none(self, api_client, user):
        tokens = self.tokens(api_client, user)
        claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})

        def b64(data: dict) -> str:
            return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()

        unsigned = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {unsigned}")
        assert api_client.get(ME).status_code == 401

    def test_password_change_revokes_earlier_tokens(self, api_client, user):
        tokens = self.tokens(api_client, user)
        client = client_for(user)
        response = client.post(
            PASSWORD,
            {"current_password": DEFAULT_PASSWORD, "new_password": "an-even-longer-passphrase-2"},
            format="json",
        )
        assert response.status_code == 204, response.content
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        assert api_client.get(ME).status_code == 401
        api_client.credentials()
        assert api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json").status_code == 401
        assert login(api_client, user.email, "an-even-longer-passphrase-2").status_code == 200

    def test_password_change_bad_input(self, user):
        client = client_for(user)
        wrong = client.post(
            PASSWORD, {"current_password": "nope", "new_password": "an-even-longer-passphrase-2"}, format="json"
        )
        assert wrong.status_code == 400
        assert error_fields(wrong) == {"current_password"}
        weak = client.post(PASSWORD, {"current_password": DEFAULT_PASSWORD, "new_password": "123"}, format="json")
        assert weak.status_code == 400
        assert error_fields(weak) == {"new_password"}
        user.refresh_from_db()
        assert user.check_password(DEFAULT_PASSWORD)

    def test_deleted_user_token_is_401(self, api_client, user):
        tokens = self.tokens(api_client, user)
        user.delete()
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
        assert api_client.get(ME).status_code == 401
        api_client.credentials()
        assert api_client.post(REFRESH, {"refresh_token": tokens["refresh_token"]}, format="json").status_code == 401

    def test_garbage_tokens(self, api_client, db):
        for header in ["Bearer", "Bearer a.b.c", "Bearer " + "x" * 5000, "Basic Zm9vOmJhcg=="]:
            api_client.credentials(HTTP_AUTHORIZATION=header)
            assert api_client.get(ME).status_code == 401, header


class TestUsers:
    def test_self_and_staff_only(self, make_user):
        alice, bob = make_user(), make_user()
        staff = make_user(is_staff=True)
        assert client_for(alice).get(f"/api/v1/users/{alice.pk}").status_code == 200
        other = client_for(alice).get(f"/api/v1/users/{bob.pk}")
        assert other.status_code == 404
        assert other.json()["error"]["code"] == "NOT_FOUND"
        assert client_for(staff).get(f"/api/v1/users/{bob.pk}").json()["email"] == bob.email

    def test_me_lists_roles_and_permissions(self, make_user):
        viewer = make_user(role="viewer")
        body = client_for(viewer).get(ME).json()
        assert body["roles"] == ["viewer"]
        assert body["permissions"] == [
            "analytics:read",
            "api_key:write",
            "execution:approve",
            "execution:read",
            "file:read",
            "log:read",
            "template:read",
            "workflow:read",
        ]


def test_simplejwt_settings_are_production_safe():
    assert settings.SIMPLE_JWT["ROTATE_REFRESH_TOKENS"]
    assert settings.SIMPLE_JWT["BLACKLIST_AFTER_ROTATION"]
    assert settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"] <= timedelta(minutes=15)
