"""API clients for tests: one authenticated as a given user."""

from __future__ import annotations

from rest_framework.test import APIClient

from accounts.models import User
from accounts.services import token_pair_issue


def client_for(user: User) -> APIClient:
    """An API client sending a fresh access token of ``user``."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_pair_issue(user=user).access_token}")
    return client
