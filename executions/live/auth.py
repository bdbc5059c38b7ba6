"""Who is on the other end of a live connection, and which runs they may follow.

Browsers cannot set headers on a websocket or an ``EventSource``, so besides
the REST API's ``Authorization: Bearer`` and ``X-API-Key`` headers a live
connection may carry its credentials as the ``Sec-WebSocket-Protocol`` pair
``bearer, <jwt>`` (websockets), ``?token=<jwt>`` or ``?api_key=<key>``. The
rules are the REST API's: simplejwt validates the token (signature, expiry,
revocation by a password change, inactive users) and refuses expired guests;
``api_key_authenticate`` checks the key, whose scopes narrow the user's
permissions. Access to a run is access to its workflow, as in the REST API;
a run or workflow the user may not read is indistinguishable from a missing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import exceptions
from rest_framework.request import Request

from accounts.authentication import ApiKeyAuthentication, JWTAuthentication
from accounts.models import ApiKey, User
from accounts.services import API_KEY_PREFIX, api_key_authenticate
from executions import selectors
from flowbuilder.api.errors import Forbidden, Unauthorized
from workflows.access import own_workflows_permissions, workflow_for

BEARER_SUBPROTOCOL = "bearer"
READ = "execution:read"


@dataclass(frozen=True)
class Credentials:
    token: str | None = None
    api_key: str | None = None
    subprotocol: str | None = None  # to echo when accepting, as browsers require


@dataclass(frozen=True)
class Principal:
    user: User
    permissions: frozenset[str]  # the user's role permissions, narrowed by an API key's scopes
    expires_at: float | None = None  # when the credentials stop working (Unix time), if they do
    console: bool = False  # a staff member's admin session (the console's run page): any run, read only


def _headers(scope: dict[str, Any]) -> dict[str, str]:
    return {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope.get("headers", [])}


def credentials_from_scope(scope: dict[str, Any]) -> Credentials:
    """A websocket's credentials: the bearer subprotocol pair, ``?token=``, ``?api_key=``, then the headers."""
    subprotocols = [str(p) for p in scope.get("subprotocols") or []]
    lowered = [p.lower() for p in subprotocols]
    if BEARER_SUBPROTOCOL in lowered:
        index = lowered.index(BEARER_SUBPROTOCOL)
        token = subprotocols[index + 1] if index + 1 < len(subprotocols) else ""
        return Credentials(token=token, subprotocol=subprotocols[index])
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    if query.get("token"):
        return Credentials(token=query["token"][0])
    if query.get("api_key"):
        return Credentials(api_key=query["api_key"][0])
    headers = _headers(scope)
    scheme, _, token = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return Credentials(token=token.strip())
    if headers.get("x-api-key"):
        return Credentials(api_key=headers["x-api-key"])
    return Credentials()


CONSOLE_PERMISSION = "executions.view_execution"


def console_principal(scope: dict[str, Any]) -> Principal | None:
    """The staff member whose admin session cookie came with the socket, if they may view every run.

    Only for a browser on the site's own pages: the socket's ``Origin`` must be the ``Host`` it
    was opened on, so another site's page cannot ride on a staff member's cookie.
    """
    user = scope.get("user")
    if user is None or not user.is_authenticated or not (user.is_active and user.is_staff):
        return None
    headers = _headers(scope)
    origin, host = headers.get("origin", ""), headers.get("host", "")
    if not origin or not host or urlsplit(origin).netloc.lower() != host.lower():
        return None
    if not user.has_perm(CONSOLE_PERMISSION):
        return None
    return Principal(user=user, permissions=frozenset({READ, "log:read"}), console=True)


def authenticate_scope(scope: dict[str, Any], credentials: Credentials) -> Principal:
    """``authenticate``; a socket with no credentials at all may be a staff member's console page."""
    if credentials == Credentials():
        principal = console_principal(scope)
        if principal is not None:
            return principal
    return authenticate(credentials)


def authenticate(credentials: Credentials) -> Principal:
    """The principal behind ``credentials``; raises Unauthorized for missing, bad, expired or revoked ones."""
    if credentials.token is not None and credentials.token.strip().startswith(API_KEY_PREFIX):
        # An API key in ?token= (seed 002's websocket client) is a key, whatever the parameter's name.
        credentials = Credentials(api_key=credentials.token, subprotocol=credentials.subprotocol)
    if credentials.token is not None:
        jwt = JWTAuthentication()
        try:
            validated = jwt.get_validated_token(credentials.token.strip())
            user = jwt.get_user(validated)
        except exceptions.AuthenticationFailed:  # InvalidToken too
            raise Unauthorized("The token is invalid or expired") from None
        expiry = validated.get("exp")
        return Principal(user=user, permissions=user.api_permissions, expires_at=float(expiry) if expiry else None)
    if credentials.api_key is not None:
        key = api_key_authenticate(raw=credentials.api_key.strip())
        expires_at = key.expires_at.timestamp() if key.expires_at else None
        return Principal(
            user=key.user, permissions=key.user.api_permissions & frozenset(key.scopes), expires_at=expires_at
        )
    raise Unauthorized("Authentication required")


@dataclass(frozen=True)
class Access:
    """What a principal may do with the runs a socket follows."""

    permissions: frozenset[str]
    workflow_id: str
    execution_id: str | None = None


def execution_access(principal: Principal, execution_id: Any) -> Access:
    """Raises NotFound for a run the principal cannot see and Forbidden without execution:read on its workflow."""
    if principal.console:  # staff: every run, to read
        execution = selectors.execution_by_id(execution_id)
        return Access(
            permissions=principal.permissions, workflow_id=str(execution.workflow_id), execution_id=str(execution.pk)
        )
    execution = selectors.execution_for(principal.user, execution_id, granted=principal.permissions, needed=READ)
    return Access(
        permissions=execution.permissions, workflow_id=str(execution.workflow_id), execution_id=str(execution.pk)
    )


def workflow_access(principal: Principal, workflow_id: Any) -> Access:
    """Raises NotFound for a workflow the principal cannot see and Forbidden without execution:read on it."""
    workflow = workflow_for(principal.user, workflow_id, granted=principal.permissions, needed=READ)
    return Access(permissions=workflow.permissions, workflow_id=str(workflow.pk))


def notifications_access(principal: Principal) -> frozenset[str]:
    """The user's own runs (their group carries the runs of workflows they own); Forbidden without execution:read."""
    allowed = own_workflows_permissions(principal.permissions)
    if READ not in allowed:
        raise Forbidden(f"Your access does not include {READ}")
    return allowed


# --- the same for DRF (the log stream, an EventSource) -------------------------------------------


class QueryTokenAuthentication(JWTAuthentication):
    """``?token=<jwt>``: for ``EventSource``, which cannot send an Authorization header."""

    def authenticate(self, request: Request) -> tuple[User, Any] | None:
        raw = request.query_params.get("token")
        if not raw:
            return None
        validated = self.get_validated_token(raw.strip())
        return self.get_user(validated), validated


class QueryApiKeyAuthentication(ApiKeyAuthentication):
    """``?api_key=<key>``: the API key for clients that cannot send ``X-API-Key``; its scopes apply."""

    def authenticate(self, request: Request) -> tuple[User, ApiKey] | None:
        raw = request.query_params.get("api_key")
        if not raw:
            return None
        try:
            key = api_key_authenticate(raw=raw.strip())
        except Unauthorized as exc:
            raise exceptions.AuthenticationFailed(exc.message) from None
        return key.user, key


class QueryTokenScheme(OpenApiAuthenticationExtension):
    target_class = "executions.live.auth.QueryTokenAuthentication"
    name = "queryToken"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": "token", "description": "An access token (JWT)"}


class QueryApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "executions.live.auth.QueryApiKeyAuthentication"
    name = "queryApiKey"

    def get_security_definition(self, auto_schema: object) -> dict[str, str]:
        return {"type": "apiKey", "in": "query", "name": "api_key"}
