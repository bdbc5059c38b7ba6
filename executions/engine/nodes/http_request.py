"""``http_request``: call an HTTP API and return its status, headers and body.

Through the SSRF guard (:mod:`integrations.net`): private, loopback,
link-local and metadata addresses are refused, redirects are followed by hand
and each hop is checked. The node's credential (basic, bearer, API key,
OAuth2 token) is applied to the request; an OAuth2 access token the server
rejects with 401 is refreshed once through the credential's ``token_url``
and stored. A dry run sends GET, HEAD and OPTIONS for real and only
describes the others.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
from django.conf import settings

from executions.engine import credentials
from executions.engine.nodes._schema import (
    BOOLEAN,
    CREDENTIAL_REF,
    STRING_MAP,
    TEXT,
    config_schema,
    dynamic,
    enum,
    integer,
    prop,
    results,
)
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType
from integrations import http
from integrations.net import BlockedAddress

_QUERY = {"type": "object", "additionalProperties": {"type": ["string", "number", "boolean"]}}
_METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# What a failing response keeps of its body in the step's error.
ERROR_BODY_CHARS = 2000


def _body_arguments(config: dict[str, Any]) -> dict[str, Any]:
    if "body" not in config or config["body"] is None:
        return {}
    body, body_type = config["body"], config.get("body_type", "json")
    if body_type == "form":
        if not isinstance(body, dict):
            raise NodeError("config.body: a form body must be an object of fields", retryable=False)
        return {"data": {k: v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}}
    if body_type == "raw":
        return {"content": body if isinstance(body, str) else json.dumps(body)}
    return {"json": body}


def _timeout(ctx: NodeContext) -> float:
    timeout = float(ctx.config.get("timeout_seconds", 30))
    return min(timeout, float(ctx.timeout)) if ctx.timeout else timeout


def _body_of(response: http.Response, response_type: str, method: str) -> Any:
    if method == "HEAD" or not response.content:
        return None if method == "HEAD" else ""
    content_type = response.headers.get("content-type", "").lower()
    wants_json = response_type == "json" or (response_type == "auto" and "json" in content_type)
    if wants_json:
        try:
            return response.json()
        except ValueError:
            if response_type == "json":
                raise NodeError("The response is not JSON (response_type is 'json')", retryable=False) from None
    return response.text()


def _simulated(
    method: str, url: str, headers: dict[str, str], params: dict[str, Any], auth: http.Auth, body: Any
) -> NodeResult:
    secret = auth.header_names | {"authorization", "cookie"}
    shown = {
        name: ("[redacted]" if name.lower() in secret else value) for name, value in {**headers, **auth.headers}.items()
    }
    query = {**params, **dict.fromkeys(auth.params, "[redacted]")}
    full_url = str(http.with_params(url, query))
    return NodeResult(
        output={
            "simulated": True,
            "would_send": {"method": method, "url": full_url, "headers": shown, "body": body},
        }
    )


def _send(ctx: NodeContext, method: str, auth: http.Auth) -> http.Response:
    config = ctx.config
    return http.send(
        method,
        config["url"],
        headers={**config.get("headers", {}), **auth.headers},
        params={**config.get("query", {}), **auth.params},
        timeout=_timeout(ctx),
        follow_redirects=bool(config.get("follow_redirects", True)),
        max_redirects=int(config.get("max_redirects", 5)),
        max_bytes=settings.FLOWBUILDER_HTTP_MAX_RESPONSE_BYTES,
        secret_headers=auth.header_names,
        **_body_arguments(config),
    )


def execute(ctx: NodeContext) -> NodeResult:
    config = ctx.config
    method = str(config.get("method", "GET")).upper()
    auth = http.auth_for(ctx.credential_type, ctx.credential)
    if ctx.dry_run and method not in SAFE_METHODS:
        return _simulated(
            method,
            config["url"],
            dict(config.get("headers", {})),
            dict(config.get("query", {})),
            auth,
            config.get("body"),
        )
    try:
        response = _send(ctx, method, auth)
        if response.status == 401 and _can_refresh(ctx):
            ctx.log("info", "The access token was rejected (401); refreshing it through the token URL")
            credentials.refresh(ctx, lambda data: http.refresh_oauth2(data, timeout=_timeout(ctx)))
            response = _send(ctx, method, http.auth_for(ctx.credential_type, ctx.credential))
    except BlockedAddress as exc:
        raise NodeError(exc.message, retryable=False) from None
    except http.ResponseTooLarge as exc:
        raise NodeError(str(exc), retryable=False) from None
    except http.TooManyRedirects as exc:
        raise NodeError(str(exc), retryable=False) from None
    except httpx.TimeoutException:
        raise NodeError(f"{method} {config['url']} timed out after {_timeout(ctx):g}s") from None
    except httpx.TransportError as exc:
        raise NodeError(f"{method} {config['url']} failed: {exc}") from None
    except ValueError as exc:  # the token endpoint refused the refresh
        raise NodeError(str(exc), retryable=False) from None

    body = _body_of(response, config.get("response_type", "auto"), method)
    output = {"status": response.status, "headers": response.header_map(), "body": body, "url": response.url}
    if response.status >= 400 and config.get("fail_on_status", True):
        excerpt = body if not isinstance(body, str) or len(body) <= ERROR_BODY_CHARS else body[:ERROR_BODY_CHARS] + "…"
        raise NodeError(
            f"{method} {config['url']} answered HTTP {response.status}",
            retryable=response.status >= 500 or response.status == 429,
            data={"status": response.status, "headers": output["headers"], "body": excerpt},
        )
    return NodeResult(output=output)


def _can_refresh(ctx: NodeContext) -> bool:
    data = ctx.credential or {}
    return ctx.credential_type == "oauth2_token" and bool(data.get("token_url") and data.get("refresh_token"))


NODE_TYPE = register(
    NodeType(
        type="http_request",
        label="HTTP Request",
        description="Sends an HTTP request and outputs the response's status, headers and body.",
        category=NodeCategory.INTEGRATION,
        config_schema=config_schema(
            {
                "method": prop("Method", "The HTTP method.", enum(*_METHODS), default="GET"),
                "url": prop("URL", "The URL to call, e.g. https://api.example.com/items/{{ input.id }}.", TEXT),
                "headers": prop("Headers", "Request headers, name to value.", dynamic(STRING_MAP), default={}),
                "query": prop("Query parameters", "Added to the URL's query string.", dynamic(_QUERY), default={}),
                "body": prop("Body", "The request body: any JSON value, encoded as 'body_type' says."),
                "body_type": prop(
                    "Body type",
                    "'json' sends JSON, 'form' URL-encodes an object, 'raw' sends a string as is.",
                    enum("json", "form", "raw"),
                    default="json",
                ),
                "credential": prop("Credential", "Basic auth, bearer token, API key or OAuth2 token.", CREDENTIAL_REF),
                "timeout_seconds": prop(
                    "Timeout", "Seconds to wait for a response.", dynamic(integer(1, 300)), default=30
                ),
                "follow_redirects": prop("Follow redirects", "Follow 3xx redirects.", dynamic(BOOLEAN), default=True),
                "max_redirects": prop("Max redirects", "Redirects to follow.", dynamic(integer(0, 20)), default=5),
                "fail_on_status": prop("Fail on 4xx/5xx", "Fail on an error status.", dynamic(BOOLEAN), default=True),
                "response_type": prop(
                    "Response type",
                    "How to read the body: 'auto' parses JSON when the Content-Type says so, else reads text.",
                    enum("auto", "json", "text"),
                    default="auto",
                ),
            },
            required=("url",),
        ),
        credential_types=("http_basic", "http_bearer", "api_key", "oauth2_token"),
        side_effects=True,
        output_schema=results(status={"type": "integer"}, headers={"type": "object"}, body={}, url={"type": "string"}),
        execute=execute,
    )
)
