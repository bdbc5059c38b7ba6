"""``http_request``: call an HTTP API and return its status, headers and body.

Through the SSRF guard (:mod:`integrations.net`): private, loopback,
link-local and metadata addresses are refused, redirects are followed by hand
and each hop is checked. The node's credential (basic, bearer, API key,
OAuth2 token) is applied to the request; an OAuth2 access token the server
rejects with 401 is refreshed once through the credential's ``token_url``
and stored. A dry run sends GET, HEAD and OPTIONS for real and only
describes the others.

Uploaded files of the run's owner (:mod:`executions.engine.files`) can be
sent: ``body_file`` makes a file's bytes the body, with its content type
unless the headers set one; ``body_type: "multipart"`` sends ``body`` as
form fields and ``files`` (field → file, or a list of files) as file parts.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
from django.conf import settings

from executions.engine import credentials
from executions.engine import files as engine_files
from executions.engine.nodes._schema import (
    BOOLEAN,
    CREDENTIAL_REF,
    FILE_REF,
    STRING_MAP,
    TEXT,
    Problem,
    config_schema,
    dynamic,
    enum,
    integer,
    path_of,
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
MAX_FILE_FIELDS = 20
# What a failing response keeps of its body in the step's error.
ERROR_BODY_CHARS = 2000


def check(config: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    body_type = config.get("body_type", "json")
    if "body_file" in config:
        if "body" in config:
            problems.append(("body_file", "Set either 'body' or 'body_file', not both"))
        if body_type == "multipart":
            problems.append(("body_file", "A multipart body sends its files through 'files'"))
    if "files" in config and body_type != "multipart":
        problems.append(("files", "File parts need body_type 'multipart'"))
    if body_type == "multipart":
        body = config.get("body")
        if body is not None and not isinstance(body, dict) and not _is_expression(body):
            problems.append(("body", "A multipart body must be an object of form fields"))
        headers = config.get("headers")
        if isinstance(headers, dict):
            problems += [
                (path_of("headers", name), "A multipart body sets its own Content-Type (with its boundary)")
                for name in headers
                if name.lower() == "content-type"
            ]
    return problems


def _is_expression(value: Any) -> bool:
    return isinstance(value, str) and value.strip().startswith("{{") and value.strip().endswith("}}")


def _fields(body: Any, body_type: str) -> dict[str, str]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise NodeError(f"config.body: a {body_type} body must be an object of fields", retryable=False)
    return {str(k): v if isinstance(v, str) else json.dumps(v) for k, v in body.items()}


@dataclass(frozen=True)
class _FilePart:
    field: str
    where: str  # the config path a failure names
    reference: Any
    listed: bool  # one of a list of files under its field


def _file_parts(config: Mapping[str, Any]) -> list[_FilePart]:
    """The file parts ``config.files`` names: one per field, or one per item of a field's list."""
    files = config.get("files") or {}
    if not isinstance(files, dict):
        raise NodeError("config.files: expected an object of form field → file id", retryable=False)
    parts: list[_FilePart] = []
    for name, value in files.items():
        if isinstance(value, list):
            parts += [_FilePart(name, f"config.files.{name}[{i}]", item, True) for i, item in enumerate(value)]
        else:
            parts.append(_FilePart(name, f"config.files.{name}", value, False))
    return parts


def _has_header(headers: Mapping[str, Any], name: str) -> bool:
    return any(key.lower() == name for key in headers)


@dataclass
class _Request:
    """What is sent besides the URL and method: the body's arguments to :func:`http.send` and its headers."""

    headers: dict[str, str]
    body: dict[str, Any] = field(default_factory=dict)
    shown: dict[str, Any] = field(default_factory=dict)  # what a dry run reports about the body


def _prepare(ctx: NodeContext, *, read: bool) -> _Request:
    """The request's body and headers; files are read for the run's owner only when ``read`` (else described).

    Raises NodeError (see :mod:`executions.engine.files`) for a file the step may not read.
    """
    config = ctx.config
    headers = dict(config.get("headers", {}))
    body_type = config.get("body_type", "json")
    if config.get("body_file") is not None:
        where = "config.body_file"
        if read:
            info, data = engine_files.read_file(ctx, config["body_file"], where=where)
        else:
            info, data = engine_files.describe_files(ctx, [(where, config["body_file"])])[0], b""
        if not _has_header(headers, "content-type"):
            headers["Content-Type"] = info.content_type
        return _Request(headers, {"content": data}, {"body_file": info.describe()})
    if body_type == "multipart":
        for name in [key for key in headers if key.lower() == "content-type"]:
            ctx.log("warning", f"The {name} header is dropped: a multipart body sets its own, with its boundary")
            del headers[name]
        fields = _fields(config.get("body"), body_type)
        parts = _file_parts(config)
        references = [(part.where, part.reference) for part in parts]
        if read:
            loaded = engine_files.read_files(ctx, references)
        else:
            loaded = [(info, b"") for info in engine_files.describe_files(ctx, references)]
        files: list[tuple[str, tuple[str | None, Any, str] | tuple[None, str]]] = []
        shown_files: dict[str, Any] = {}
        for part, (info, data) in zip(parts, loaded, strict=True):
            files.append((part.field, (info.name, data, info.content_type)))
            if part.listed:
                shown_files.setdefault(part.field, []).append(info.describe())
            else:
                shown_files[part.field] = info.describe()
        if not files:  # httpx sends fields alone URL-encoded: as file-less parts they stay multipart
            files, fields = [(name, (None, value)) for name, value in fields.items()], {}
        arguments = {"data": fields, "files": files} if files else {}
        return _Request(headers, arguments, {"body": config.get("body"), "files": shown_files})
    if "body" not in config or config["body"] is None:
        return _Request(headers)
    body = config["body"]
    if body_type == "form":
        return _Request(headers, {"data": _fields(body, body_type)}, {"body": body})
    if body_type == "raw":
        return _Request(headers, {"content": body if isinstance(body, str) else json.dumps(body)}, {"body": body})
    return _Request(headers, {"json": body}, {"body": body})


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


def _simulated(method: str, url: str, request: _Request, params: dict[str, Any], auth: http.Auth) -> NodeResult:
    secret = auth.header_names | {"authorization", "cookie"}
    shown = {
        name: ("[redacted]" if name.lower() in secret else value)
        for name, value in {**request.headers, **auth.headers}.items()
    }
    query = {**params, **dict.fromkeys(auth.params, "[redacted]")}
    full_url = str(http.with_params(url, query))
    would_send = {"method": method, "url": full_url, "headers": shown, "body": None, **request.shown}
    # The keys a real answer has, so what follows reads them as it will: an empty 200.
    answer = {"status": 200, "headers": {}, "body": {}, "url": full_url}
    return NodeResult(output={**answer, "simulated": True, "would_send": would_send})


def _send(ctx: NodeContext, method: str, auth: http.Auth, request: _Request) -> http.Response:
    config = ctx.config
    return http.send(
        method,
        config["url"],
        headers={**request.headers, **auth.headers},
        params={**config.get("query", {}), **auth.params},
        timeout=_timeout(ctx),
        follow_redirects=bool(config.get("follow_redirects", True)),
        max_redirects=int(config.get("max_redirects", 5)),
        max_bytes=settings.FLOWBUILDER_HTTP_MAX_RESPONSE_BYTES,
        secret_headers=auth.header_names,
        **request.body,
    )


def execute(ctx: NodeContext) -> NodeResult:
    config = ctx.config
    method = str(config.get("method", "GET")).upper()
    auth = http.auth_for(ctx.credential_type, ctx.credential)
    if ctx.dry_run and method not in SAFE_METHODS:
        # The files are checked as a real run would (the owner's, within the limit), not read.
        request = _prepare(ctx, read=False)
        return _simulated(method, config["url"], request, dict(config.get("query", {})), auth)
    request = _prepare(ctx, read=True)
    try:
        response = _send(ctx, method, auth, request)
        if response.status == 401 and _can_refresh(ctx):
            ctx.log("info", "The access token was rejected (401); refreshing it through the token URL")
            credentials.refresh(ctx, lambda data: http.refresh_oauth2(data, timeout=_timeout(ctx)))
            response = _send(ctx, method, http.auth_for(ctx.credential_type, ctx.credential), request)
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
                "body": prop(
                    "Body",
                    "The request body: any JSON value, encoded as 'body_type' says (the form fields of a "
                    "multipart body).",
                ),
                "body_type": prop(
                    "Body type",
                    "'json' sends JSON, 'form' URL-encodes an object, 'raw' sends a string as is, 'multipart' "
                    "sends 'body' as form fields and 'files' as file parts (multipart/form-data).",
                    enum("json", "form", "raw", "multipart"),
                    default="json",
                ),
                "body_file": prop(
                    "Body file",
                    "Send an uploaded file's bytes as the body, with its content type unless the headers set "
                    "one: a file id or a template such as {{ input.file.id }} (the workflow owner's files only, "
                    "up to FLOWBUILDER_NODE_FILE_MAX_BYTES). Instead of 'body'.",
                    FILE_REF,
                    examples=["{{ input.file.id }}"],
                ),
                "files": prop(
                    "Files",
                    "With body_type 'multipart': form field → uploaded file (or a list of files) sent as file "
                    "parts with their names and content types; file ids or templates such as {{ input.file.id }}.",
                    dynamic(
                        {
                            "type": "object",
                            "maxProperties": MAX_FILE_FIELDS,
                            "additionalProperties": {
                                "anyOf": [
                                    FILE_REF,
                                    {"type": "array", "minItems": 1, "maxItems": MAX_FILE_FIELDS, "items": FILE_REF},
                                ]
                            },
                        }
                    ),
                    examples=[{"document": "{{ input.file.id }}"}],
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
        check=check,
        output_schema=results(status={"type": "integer"}, headers={"type": "object"}, body={}, url={"type": "string"}),
        execute=execute,
    )
)
