"""DRF authentication: JWT bearer tokens and ``X-API-Key``."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _
from rest_framework import exceptions
from rest_framework.authentication import BaseAuthentication
from rest_framework.request import Request
from rest_framework_simplejwt import authentication as simplejwt_authentication

from accounts.models import ApiKey, User
from accounts.services import API_KEY_PREFIX, SESSION_CLAIM, api_key_authenticate, session_logged_out
from flowbuilder.api.errors import Unauthorized


class JWTAuthentication(simplejwt_authentication.JWTAuthentication):
    """simplejwt's bearer authentication, also refusing expired guest sessions.

    simplejwt already refuses forged, expired and ``alg: none`` tokens, tokens
    of inactive users, and tokens issued before a password change.
    """

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        header = self.get_header(request)
        raw = self.get_raw_token(header) if header is not None else None
        if raw is not None and raw.startswith(API_KEY_PREFIX.encode()):
            return None  # an API key sent as a bearer token (seed 002's client): ApiKeyAuthentication's
        return super().authenticate(request)

    def get_user(self, validated_token: Any) -> User:
        user = super().get_user(validated_token)
        if user.guest_expired:
            raise exceptions.AuthenticationFailed(_("The guest session has expired"), code="guest_expired")
        if session_logged_out(validated_token.get(SESSION_CLAIM)):
            raise exceptions.AuthenticationFailed(_("The session was logged out"), code="logged_out")
        return user


class ApiKeyAuthentication(BaseAuthentication):
    """``X-API-Key: fbk_…`` or ``Authorization: Bearer fbk_…``; ``request.auth`` is the :class:`ApiKey` (its scopes apply)."""

    header = "X-API-Key"

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = request.headers.get(self.header)
        if not raw:
            scheme, _, credential = request.headers.get("Authorization", "").partition(" ")
            if scheme.lower() != "bearer" or not credential.strip().startswith(API_KEY_PREFIX):
                return None
            raw = credential
        if not raw:
            return None
        try:
            key = api_key_authenticate(raw=raw.strip())
        except Unauthorized as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return key.user, key

    def authenticate_header(self, request: Request) -> str:
        return self.header


def granted_permissions(request: Request) -> frozenset[str]:
    """What this request may do: the user's role permissions, narrowed by an API key's scopes."""
    user = request.user
    if not user or not user.is_authenticated:
        return frozenset()
    permissions = user.api_permissions
    if isinstance(request.auth, ApiKey):
        permissions = permissions & frozenset(request.auth.scopes)
    return permissions
