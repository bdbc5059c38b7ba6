"""The API's errors as exceptions: one class per kind, each carrying the server's error envelope.

The server answers every error as ``{"error": {"code", "message", "details", "request_id", ...}}``;
:func:`error_from_response` turns that into the matching exception, so callers can write
``except NotFoundError`` and read ``err.details`` for the fields a 400 points at.
"""

from __future__ import annotations

from typing import Any

import httpx

__all__ = [
    "APIConnectionError",
    "APIError",
    "AuthenticationError",
    "ConflictError",
    "FlowbuilderError",
    "NotFoundError",
    "PermissionDeniedError",
    "RateLimitError",
    "ServiceUnavailableError",
    "StreamError",
    "ValidationError",
    "WaitTimeoutError",
]


class FlowbuilderError(Exception):
    """Base of every error this client raises."""


class APIConnectionError(FlowbuilderError):
    """The server could not be reached (after the retries), or the connection broke."""


class WaitTimeoutError(FlowbuilderError, TimeoutError):
    """``executions.wait`` gave up before the run ended; ``execution`` is the run as last seen."""

    def __init__(self, message: str, execution: Any) -> None:
        super().__init__(message)
        self.execution = execution


class StreamError(FlowbuilderError):
    """A live-updates socket closed abnormally (``code`` is the websocket close code)."""

    def __init__(self, message: str, code: int | None) -> None:
        super().__init__(message)
        self.code = code


class APIError(FlowbuilderError):
    """The server answered an error: ``status_code``, and its envelope's ``code``, ``message``, ``details``."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int,
        code: str = "",
        reason: str = "",
        details: list[dict[str, Any]] | None = None,
        request_id: str | None = None,
        response: httpx.Response | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status_code = status_code
        self.code = code
        self.reason = reason
        self.details: list[dict[str, Any]] = details or []
        self.request_id = request_id
        self.response = response

    def __str__(self) -> str:
        text = f"{self.status_code} {self.code}: {self.message}" if self.code else f"{self.status_code}: {self.message}"
        fields = [f"{d.get('field')}: {d.get('message')}" for d in self.details if d.get("field")]
        if fields:
            text += " (" + "; ".join(fields) + ")"
        if self.request_id:
            text += f" [request {self.request_id}]"
        return text


class ValidationError(APIError):
    """400 or 422: the request was wrong; ``details`` says which fields and why."""


class AuthenticationError(APIError):
    """401: no credentials, or a bad or expired token or API key."""


class PermissionDeniedError(APIError):
    """403: authenticated, but not allowed (a role or an API key's scopes)."""


class NotFoundError(APIError):
    """404: no such object, or one you may not see."""


class ConflictError(APIError):
    """409: the object changed meanwhile (a stale ``version``), or the action does not fit its state."""


class RateLimitError(APIError):
    """429: too many requests; ``retry_after`` is how many seconds the server asked to wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServiceUnavailableError(APIError):
    """503: the server is at capacity or a service it needs is down; ``retry_after`` says when to come back."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


_BY_STATUS: dict[int, type[APIError]] = {
    400: ValidationError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    422: ValidationError,
    429: RateLimitError,
    503: ServiceUnavailableError,
}


def retry_after_seconds(response: httpx.Response) -> float | None:
    """The ``Retry-After`` header in seconds (the server sends seconds; an HTTP date is not used by it)."""
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def error_from_response(response: httpx.Response) -> APIError:
    """The exception for an error answer, from the SPEC's envelope (or the bare status if there is none)."""
    envelope: dict[str, Any] = {}
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        envelope = body["error"]
    message = str(envelope.get("message") or response.reason_phrase or "HTTP error")
    kwargs: dict[str, Any] = {
        "status_code": response.status_code,
        "code": str(envelope.get("code") or ""),
        "reason": str(envelope.get("reason") or ""),
        "details": envelope.get("details") if isinstance(envelope.get("details"), list) else [],
        "request_id": envelope.get("request_id") or response.headers.get("X-Request-ID"),
        "response": response,
    }
    cls = _BY_STATUS.get(response.status_code, APIError)
    if cls in (RateLimitError, ServiceUnavailableError):
        kwargs["retry_after"] = retry_after_seconds(response)
    return cls(message, **kwargs)
