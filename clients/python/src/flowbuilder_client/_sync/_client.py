# Generated from ../_async/_client.py by clients/generate.py (make clients-generate): edit that file, not this one.
"""The client. Written for asyncio in `_async/`; `_sync/` is generated from it (`make clients-generate`)."""

from __future__ import annotations

import json as jsonlib
from collections.abc import Mapping
from types import TracebackType
from typing import Any

import httpx

from .._config import ClientConfig, backoff, jsonable, may_resend, retry_delay, sync_sleep
from .._errors import APIConnectionError, error_from_response
from . import _resources as r


class Flowbuilder:
    """A client of one Flowbuilder server.

    ``base_url`` defaults to ``$FLOWBUILDER_URL`` (else ``http://localhost:8000``); credentials are an
    ``api_key`` (``fbk_…``, sent as ``X-API-Key``) or a JWT ``token`` (``Authorization: Bearer``),
    defaulting to ``$FLOWBUILDER_API_KEY`` / ``$FLOWBUILDER_TOKEN``; ``auth.login`` sets the token.
    Answers 429 and 503 and failed connections are retried ``max_retries`` times with backoff,
    honouring ``Retry-After`` up to ``max_retry_wait`` seconds; a request that may have reached the server is sent again only if that
    is harmless (GET, PUT, DELETE, or a POST with an ``Idempotency-Key``, which every execute carries).
    """

    def __init__(
        self,
        base_url: str | None = None,
        *,
        api_key: str | None = None,
        token: str | None = None,
        timeout: float = 30.0,
        max_retries: int = 2,
        max_retry_wait: float = 30.0,
        page_size: int = 100,
        headers: Mapping[str, str] | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self._config = ClientConfig.resolve(
            base_url,
            api_key,
            token,
            timeout=timeout,
            max_retries=max_retries,
            max_retry_wait=max_retry_wait,
            headers=dict(headers or {}),
        )
        self._http = http_client or httpx.Client(timeout=timeout)
        self._page_size = page_size  # items per request when a ``list`` iterates pages
        self.auth = r.Auth(self)
        self.api_keys = r.ApiKeys(self)
        self.workflows = r.Workflows(self)
        self.executions = r.Executions(self)
        self.credentials = r.Credentials(self)
        self.integrations = r.Integrations(self)
        self.webhooks = r.Webhooks(self)
        self.templates = r.Templates(self)
        self.files = r.Files(self)
        self.ai = r.AI(self)
        self.analytics = r.Analytics(self)
        self.monitoring = r.Monitoring(self)
        self.audit = r.Audit(self)
        self.node_types = r.NodeTypes(self)
        self.test = r.Test(self)

    @property
    def base_url(self) -> str:
        return self._config.base_url

    @property
    def token(self) -> str | None:
        return self._config.token

    @token.setter
    def token(self, value: str | None) -> None:
        self._config.token = value

    @property
    def api_key(self) -> str | None:
        return self._config.api_key

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        data: Mapping[str, Any] | None = None,
        files: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """Send one API request (``path`` from the server's root, e.g. ``/api/v1/workflows``) with retries.

        Answers an error status by raising the matching :class:`~flowbuilder_client.APIError`.
        """
        config = self._config
        all_headers = {**config.default_headers(), **config.auth_headers(), **(headers or {})}
        content = None
        if json is not None:
            content = jsonlib.dumps(jsonable(json)).encode()
            all_headers["Content-Type"] = "application/json"
        attempt = 0
        while True:
            try:
                response = self._http.request(
                    method,
                    config.url(path),
                    params={k: v for k, v in (params or {}).items() if v is not None},
                    content=content,
                    data=data,
                    files=files,
                    headers=all_headers,
                )
            except httpx.TransportError as exc:
                if attempt < config.max_retries and may_resend(exc, method, all_headers):
                    attempt += 1
                    sync_sleep(backoff(attempt))
                    continue
                raise APIConnectionError(f"{method} {path}: {exc!r}") from exc
            if response.status_code in (429, 503) and attempt < config.max_retries:
                delay = retry_delay(response, attempt + 1, config.max_retry_wait)
                if delay is not None:
                    attempt += 1
                    response.close()
                    sync_sleep(delay)
                    continue
            if response.is_error:
                response.read()
                raise error_from_response(response)
            return response

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> Flowbuilder:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
