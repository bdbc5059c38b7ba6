"""Outgoing HTTP on the guarded client: redirects by hand, a response size cap, credentials on requests.

:func:`send` is what ``http_request``, ``slack``, ``llm``, the AI gateway and
the credential tests use. Each redirect hop is checked by the guard before it
is requested (and connected to through it); credentials are dropped when a
redirect leaves the origin they were meant for.
"""

from __future__ import annotations

import base64
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from integrations.net import BlockedAddress, Guard, current_guard, guarded_client

REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
# Headers a request built for one host must not carry to another.
_ORIGIN_BOUND_HEADERS = frozenset({"authorization", "cookie", "proxy-authorization"})


class ResponseTooLarge(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(f"The response is larger than the {limit:,}-byte limit")
        self.limit = limit


class TooManyRedirects(Exception):
    pass


@dataclass
class Response:
    status: int
    headers: httpx.Headers
    content: bytes
    url: str
    redirects: list[str] = field(default_factory=list)

    def header_map(self) -> dict[str, str]:
        """Headers by lower-case name; repeated headers joined with ", "."""
        merged: dict[str, str] = {}
        for name, value in self.headers.multi_items():
            key = name.lower()
            merged[key] = f"{merged[key]}, {value}" if key in merged else value
        return merged

    def json(self) -> Any:
        return httpx.Response(self.status, headers=self.headers, content=self.content).json()

    def text(self) -> str:
        return httpx.Response(self.status, headers=self.headers, content=self.content).text


@dataclass
class Auth:
    """What a credential adds to a request: headers, query parameters; and which headers are secret."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)

    @property
    def header_names(self) -> frozenset[str]:
        return frozenset(name.lower() for name in self.headers)


def auth_for(credential_type: str | None, data: Mapping[str, Any] | None) -> Auth:
    """The request changes for an ``http_basic``, ``http_bearer``, ``api_key`` or ``oauth2_token`` credential."""
    if not credential_type or not data:
        return Auth()
    if credential_type == "http_basic":
        pair = f"{data['username']}:{data['password']}".encode()
        return Auth(headers={"Authorization": "Basic " + base64.b64encode(pair).decode()})
    if credential_type == "http_bearer":
        return Auth(headers={"Authorization": f"Bearer {data['token']}"})
    if credential_type == "oauth2_token":
        return Auth(headers={"Authorization": f"Bearer {data['access_token']}"})
    if credential_type == "api_key":
        if data.get("in", "header") == "query":
            return Auth(params={data["name"]: data["value"]})
        return Auth(headers={data["name"]: data["value"]})
    if credential_type == "openai_compatible":
        headers = {"Authorization": f"Bearer {data['api_key']}"} if data.get("api_key") else {}
        if data.get("organization"):
            headers["OpenAI-Organization"] = data["organization"]
        return Auth(headers=headers)
    return Auth()


def send(
    method: str,
    url: str,
    *,
    headers: Mapping[str, str] | None = None,
    params: Mapping[str, Any] | None = None,
    content: bytes | str | None = None,
    json: Any = None,
    data: Mapping[str, Any] | None = None,
    files: Any = None,
    timeout: float = 30,
    follow_redirects: bool = True,
    max_redirects: int = 5,
    max_bytes: int | None = None,
    secret_headers: frozenset[str] = frozenset(),
    allow: tuple[str, ...] = (),
    client: httpx.Client | None = None,
) -> Response:
    """Send a request through the guard, following up to ``max_redirects`` redirects by hand.

    ``timeout`` bounds the whole exchange, redirects and body included.
    ``secret_headers`` (lower-case names, e.g. an API key header) are dropped,
    like ``Authorization``, when a redirect leads to another origin. ``files``
    (httpx's form: ``[(field, (filename, bytes, content_type)), …]``) makes a
    multipart body, with ``data`` as its other fields.

    Raises BlockedAddress (the guard refused a hop), TooManyRedirects,
    ResponseTooLarge, and httpx's TimeoutException / TransportError.
    """
    guard = current_guard(allow=allow)
    client = client or guarded_client(allow=allow)
    deadline = time.monotonic() + timeout
    body: dict[str, Any] = {}
    if json is not None:
        body["json"] = json
    elif files:
        body["files"] = files
        if data:
            body["data"] = data
    elif data is not None:
        body["data"] = data
    elif content is not None:
        body["content"] = content
    guard.check_url(url)
    request = client.build_request(method, with_params(url, params), headers=headers, **body)
    request.read()  # a multipart body is a stream: read it once, so a 307/308 redirect can send it again
    redirects: list[str] = []
    while True:
        guard.check_url(request.url)
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise httpx.ReadTimeout(f"Timed out after {timeout:g}s")
        request.extensions["timeout"] = httpx.Timeout(remaining).as_dict()
        try:
            response = client.send(request, stream=True)
        except httpx.RemoteProtocolError as exc:
            # httpx parses a redirect's Location even when not following it; an unparsable one
            # (e.g. the octal host 0177.0.0.1) must read as refused, like any other bad hop.
            if "location header" in str(exc).lower():
                raise BlockedAddress(f"Refused: the redirect location is not a valid URL ({exc})") from None
            raise
        try:
            location = response.headers.get("location")
            if follow_redirects and response.status_code in REDIRECT_STATUSES and location:
                if len(redirects) >= max_redirects:
                    raise TooManyRedirects(f"More than {max_redirects} redirects (last to {location})")
                request = _redirect(client, request, response, guard, secret_headers)
                redirects.append(str(request.url))
                continue
            payload = _read(response, max_bytes, deadline, timeout)
        finally:
            response.close()
        return Response(response.status_code, response.headers, payload, str(request.url), redirects)


def with_params(url: str, params: Mapping[str, Any] | None) -> httpx.URL:
    """``url`` with ``params`` added to the query it already has (httpx's ``params=`` would replace it)."""
    parsed = httpx.URL(url)
    return parsed.copy_merge_params(params) if params else parsed


def _redirect(
    client: httpx.Client, request: httpx.Request, response: httpx.Response, guard: Guard, secret: frozenset[str]
) -> httpx.Request:
    try:
        url = request.url.join(response.headers["location"])
    except httpx.InvalidURL as exc:
        raise BlockedAddress(f"Refused: the redirect location is not a valid URL ({exc})") from None
    guard.check_url(url)
    method = request.method
    if response.status_code == 303 and method != "HEAD":
        method = "GET"
    elif response.status_code in (301, 302) and method == "POST":
        method = "GET"  # what browsers (and httpx) do
    keep_body = method == request.method and response.status_code in (307, 308)
    headers = httpx.Headers(request.headers)
    for name in ("host", "content-length", "transfer-encoding"):
        headers.pop(name, None)
    if not keep_body:
        headers.pop("content-type", None)
    if (url.scheme, url.host, url.port) != (request.url.scheme, request.url.host, request.url.port):
        for name in _ORIGIN_BOUND_HEADERS | secret:
            headers.pop(name, None)
    return client.build_request(method, url, headers=headers, content=request.content if keep_body else None)


def _read(response: httpx.Response, max_bytes: int | None, deadline: float, timeout: float) -> bytes:
    if max_bytes is not None:
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > max_bytes:
            raise ResponseTooLarge(max_bytes)
    buffer = bytearray()
    for chunk in response.iter_bytes():
        buffer += chunk
        if max_bytes is not None and len(buffer) > max_bytes:
            raise ResponseTooLarge(max_bytes)
        if time.monotonic() > deadline:
            raise httpx.ReadTimeout(f"Timed out after {timeout:g}s reading the response")
    return bytes(buffer)


def refresh_oauth2(data: Mapping[str, Any], *, timeout: float = 30) -> dict[str, Any]:
    """New tokens for an ``oauth2_token`` credential from its ``token_url`` (RFC 6749 §6).

    Answers the fields to store (``access_token``, and ``refresh_token`` when
    the server rotated it). Raises ValueError with the server's reason when the
    refresh is refused, and what :func:`send` raises.
    """
    if not data.get("token_url") or not data.get("refresh_token"):
        raise ValueError("The credential has no token_url and refresh_token to refresh with")
    form = {"grant_type": "refresh_token", "refresh_token": data["refresh_token"]}
    for name in ("client_id", "client_secret", "scope"):
        if data.get(name):
            form[name] = data[name]
    response = send(
        "POST", data["token_url"], data=form, timeout=timeout, headers={"Accept": "application/json"}, max_bytes=1 << 20
    )
    try:
        body = response.json()
    except ValueError:
        body = {}
    if response.status >= 400 or not isinstance(body, dict) or not body.get("access_token"):
        reason = body.get("error_description") or body.get("error") if isinstance(body, dict) else None
        raise ValueError(
            f"The token endpoint refused the refresh (HTTP {response.status}): {reason or 'no access_token'}"
        )
    fresh = {"access_token": str(body["access_token"])}
    if body.get("refresh_token"):
        fresh["refresh_token"] = str(body["refresh_token"])
    return fresh
