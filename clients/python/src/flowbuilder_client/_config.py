"""What the sync and async clients share: where the server is, how to authenticate, when to retry."""

from __future__ import annotations

import asyncio
import os
import random
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from pydantic import BaseModel

from ._errors import retry_after_seconds
from ._version import __version__

DEFAULT_BASE_URL = "http://localhost:8000"
API_PREFIX = "/api/v1"
FINISHED = frozenset({"completed", "failed", "cancelled", "timed_out"})

# Methods a server may see twice without harm; a POST is retried after it may have arrived only
# when it carries an Idempotency-Key (every execute does).
IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# The request never reached the server: safe to send again whatever it was.
NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


@dataclass
class ClientConfig:
    base_url: str
    api_key: str | None = None
    token: str | None = None
    timeout: float = 30.0
    max_retries: int = 2
    max_retry_wait: float = 30.0  # a Retry-After longer than this is raised, not slept through
    headers: dict[str, str] = field(default_factory=dict)

    @classmethod
    def resolve(
        cls,
        base_url: str | None,
        api_key: str | None,
        token: str | None,
        **options: Any,
    ) -> ClientConfig:
        """Arguments first, then ``FLOWBUILDER_URL``, ``FLOWBUILDER_API_KEY``, ``FLOWBUILDER_TOKEN``."""
        base_url = (base_url or os.environ.get("FLOWBUILDER_URL") or DEFAULT_BASE_URL).rstrip("/")
        if base_url.endswith(API_PREFIX):
            base_url = base_url[: -len(API_PREFIX)]
        if api_key is None and token is None:
            api_key = os.environ.get("FLOWBUILDER_API_KEY") or None
            token = os.environ.get("FLOWBUILDER_TOKEN") or None
        return cls(base_url=base_url, api_key=api_key, token=token, **options)

    def auth_headers(self) -> dict[str, str]:
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        if self.api_key:
            return {"X-API-Key": self.api_key}
        return {}

    def default_headers(self) -> dict[str, str]:
        return {"User-Agent": f"flowbuilder-client-python/{__version__}", "Accept": "application/json", **self.headers}

    def websocket_url(self, path: str) -> str:
        """``ws(s)://host/ws/...`` for a path such as ``executions/<id>/``."""
        parts = urlsplit(self.base_url)
        scheme = "wss" if parts.scheme == "https" else "ws"
        return urlunsplit((scheme, parts.netloc, f"{parts.path}/ws/{path}", "", ""))

    def url(self, path: str) -> str:
        return f"{self.base_url}{path}"


def backoff(attempt: int) -> float:
    """Seconds before retry number ``attempt`` (1, 2, ...): exponential from 0.5 s, capped at 8 s, jittered."""
    return float(min(8.0, 0.5 * 2 ** (attempt - 1)) * (0.5 + random.random() / 2))  # noqa: S311 (jitter, not crypto)


def retry_delay(response: httpx.Response, attempt: int, max_wait: float) -> float | None:
    """How long to wait before retrying a 429/503 answer, or None not to retry it."""
    asked = retry_after_seconds(response)
    if asked is None:
        return backoff(attempt)
    return asked if asked <= max_wait else None


def may_resend(exc: httpx.TransportError, method: str, headers: Mapping[str, str]) -> bool:
    """Whether a request that failed in transport can be sent again without doing its work twice."""
    return (
        isinstance(exc, NOT_SENT)
        or method.upper() in IDEMPOTENT_METHODS
        or any(k.lower() == "idempotency-key" for k in headers)
    )


def clean(values: Mapping[str, Any]) -> dict[str, Any]:
    """Keyword arguments left at None are not sent."""
    return {k: v for k, v in values.items() if v is not None}


def merge_body(body: Mapping[str, Any] | None, fields: Mapping[str, Any]) -> dict[str, Any]:
    """A request body from a dict (as the seeds' clients pass it) and keyword arguments, which win."""
    return {**(dict(body) if body else {}), **clean(fields)}


def jsonable(value: Any) -> Any:
    """A request body with any model in it (an answer sent back: an export, a definition) as plain JSON.

    Only the fields the server sent are kept (``exclude_unset``): a model's unset optional fields
    would otherwise go back as nulls, which the server rightly refuses.
    """
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {key: jsonable(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(item) for item in value]
    return value


async def async_sleep(seconds: float) -> None:
    await asyncio.sleep(seconds)


def sync_sleep(seconds: float) -> None:
    time.sleep(seconds)
