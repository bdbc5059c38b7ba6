"""E-mail verification and password reset through allauth headless (``/_allauth/``)."""

from __future__ import annotations

import re
from urllib.parse import unquote

import pytest
from allauth.account.models import EmailAddress
from django.core import mail

from tests.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

BASE = "/_allauth/app/v1"


def key_from_last_mail() -> str:
    match = re.search(r"/key/([^\s/]+)|verify-email/([^\s/]+)", mail.outbox[-1].body)
    assert match, mail.outbox[-1].body
    return unquote(match.group(1) or match.group(2))  # the SPA reads it from its URL, decoded


@pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the e-mail goes out on commit
def test_email_verification(api_client):
    api_client.post(
        "/api/v1/auth/register", {"email": "v@example.com", "password": "a-long-passphrase-1"}, format="json"
    )
    key = key_from_last_mail()
    response = api_client.post(f"{BASE}/auth/email/verify", {"key": key}, format="json")
    assert response.status_code in (200, 401), response.content  # 401: verified, but not logged in via allauth
    assert EmailAddress.objects.get(email="v@example.com").verified


def test_password_reset_then_old_tokens_die(api_client, user):
    tokens = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json"
    ).json()
    assert api_client.post(f"{BASE}/auth/password/request", {"email": user.email}, format="json").status_code == 200
    key = key_from_last_mail()
    reset = api_client.post(
        f"{BASE}/auth/password/reset", {"key": key, "password": "brand-new-passphrase-9"}, format="json"
    )
    assert reset.status_code in (200, 401), reset.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access_token']}")
    assert api_client.get("/api/v1/auth/me").status_code == 401
    api_client.credentials()
    login = api_client.post(
        "/api/v1/auth/login", {"email": user.email, "password": "brand-new-passphrase-9"}, format="json"
    )
    assert login.status_code == 200
