"""The one error shape of the API, and the domain exceptions that map to it.

Every layer answers errors as::

    {"error": {"code": "VALIDATION_ERROR", "message": "...",
               "details": [{"field": "definition.nodes[2].type", "message": "..."}],
               "request_id": "...", "timestamp": "..."}}

Services raise :class:`ApplicationError` subclasses; DRF, Django and library
exceptions are translated here, in one place, so views never build errors.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from typing import Any

from django.core import exceptions as django_exceptions
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf_exceptions
from rest_framework import status
from rest_framework.response import Response

from flowbuilder.api.request_id import get_request_id
from flowbuilder.outages import is_outage
from flowbuilder.timestamps import utc_iso

logger = logging.getLogger(__name__)

STATUS_CODES: dict[int, str] = {
    400: "VALIDATION_ERROR",
    401: "UNAUTHORIZED",
    403: "FORBIDDEN",
    404: "NOT_FOUND",
    405: "METHOD_NOT_ALLOWED",
    406: "NOT_ACCEPTABLE",
    409: "CONFLICT",
    413: "PAYLOAD_TOO_LARGE",
    415: "UNSUPPORTED_MEDIA_TYPE",
    422: "UNPROCESSABLE",
    429: "RATE_LIMIT_EXCEEDED",
    500: "INTERNAL_ERROR",
    503: "SERVICE_UNAVAILABLE",
}

Detail = dict[str, Any]


class ApplicationError(Exception):
    """Base of the domain errors services raise; the one handler renders them.

    ``code`` is one of SPEC §2's codes. ``reason`` is the specific cause a
    client can branch on (``IDEMPOTENCY_KEY_REUSED``, ``STORAGE_QUOTA_EXCEEDED``):
    each app declares its own subclasses with one, in its ``errors`` module.
    ``retry_after`` (seconds) becomes the ``Retry-After`` header. Services say
    what went wrong; only the handler speaks HTTP.
    """

    status_code: int = 400
    code: str = "VALIDATION_ERROR"
    reason: str = ""
    default_message: str = "Request validation failed"

    def __init__(
        self,
        message: str | None = None,
        *,
        details: Iterable[Detail] | None = None,
        field: str | None = None,
        retry_after: int | None = None,
    ) -> None:
        self.message = message or self.default_message
        self.details: list[Detail] = list(details or [])
        if field is not None and not self.details:
            self.details = [{"field": field, "message": self.message}]
        self.retry_after = retry_after
        super().__init__(self.message)

    def headers(self) -> dict[str, str]:
        return {"Retry-After": str(self.retry_after)} if self.retry_after is not None else {}


class ValidationFailed(ApplicationError):
    status_code, code, default_message = 400, "VALIDATION_ERROR", "Request validation failed"


class Unauthorized(ApplicationError):
    status_code, code, default_message = 401, "UNAUTHORIZED", "Authentication required"


class Forbidden(ApplicationError):
    status_code, code, default_message = 403, "FORBIDDEN", "You do not have permission to do this"


class NotFound(ApplicationError):
    status_code, code, default_message = 404, "NOT_FOUND", "Not found"


class MethodNotAllowed(ApplicationError):
    status_code, code, default_message = 405, "METHOD_NOT_ALLOWED", "Method not allowed"

    def __init__(self, message: str | None = None, *, allow: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.allow = allow

    def headers(self) -> dict[str, str]:
        return {**super().headers(), **({"Allow": self.allow} if self.allow else {})}


class Conflict(ApplicationError):
    status_code, code, default_message = 409, "CONFLICT", "The resource changed; reload and try again"


class PayloadTooLarge(ApplicationError):
    status_code, code, default_message = 413, "PAYLOAD_TOO_LARGE", "Request body too large"


class Unprocessable(ApplicationError):
    status_code, code, default_message = 422, "UNPROCESSABLE", "The request could not be understood"


class RateLimited(ApplicationError):
    """Past a limit; with the limit's window, the ``X-RateLimit-*`` headers describe it."""

    status_code, code, default_message = 429, "RATE_LIMIT_EXCEEDED", "Too many requests"

    def __init__(
        self,
        message: str | None = None,
        *,
        retry_after: int,
        limit: int | None = None,
        reset: int | None = None,
        window: int | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(message, retry_after=retry_after, **kwargs)
        self.limit, self.reset, self.window = limit, reset, window

    def headers(self) -> dict[str, str]:
        return {**super().headers(), **exhausted_headers(self.limit, self.reset, self.window)}


def exhausted_headers(limit: int | None, reset: int | None, window: int | None) -> dict[str, str]:
    """``X-RateLimit-*`` of a limit that is used up (nothing when there is no limit to describe)."""
    if limit is None:
        return {}
    headers = {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": "0"}
    if reset is not None:
        headers["X-RateLimit-Reset"] = str(reset)
    if window is not None:
        headers["X-RateLimit-Window"] = str(window)
    return headers


class ServiceUnavailable(ApplicationError):
    status_code, code, default_message = 503, "SERVICE_UNAVAILABLE", "Service unavailable"


def error_body(code: str, message: str, details: list[Detail] | None = None, *, reason: str = "") -> dict[str, Any]:
    error: dict[str, Any] = {"code": code}
    if reason:
        error["reason"] = reason
    error.update(message=message, details=details or [], request_id=get_request_id(), timestamp=utc_iso())
    return {"error": error}


def error_json_response(status_code: int, message: str, details: list[Detail] | None = None) -> JsonResponse:
    """The envelope as a plain Django response, for middleware and URL handlers."""
    code = STATUS_CODES.get(status_code, "ERROR")
    return JsonResponse(error_body(code, message, details), status=status_code)


def flatten_details(detail: Any, prefix: str = "") -> list[Detail]:
    """Turn DRF's nested error structure into ``[{field, message}]`` with JSON paths.

    ``{"definition": {"nodes": [{}, {"type": ["bad"]}]}}`` becomes
    ``[{"field": "definition.nodes[1].type", "message": "bad"}]``.
    """
    out: list[Detail] = []
    if isinstance(detail, Mapping):
        for key, value in detail.items():
            if key in ("non_field_errors", "__all__"):
                path = prefix or None
            elif isinstance(key, int):  # ListField/DictField child errors
                path = f"{prefix}[{key}]"
            else:
                path = f"{prefix}.{key}" if prefix else str(key)
            out.extend(flatten_details(value, path or ""))
    elif isinstance(detail, list):
        if all(not isinstance(item, (Mapping, list)) for item in detail):
            out.extend({"field": prefix or None, "message": str(item)} for item in detail)
        else:
            for index, item in enumerate(detail):
                if item:  # DRF puts {} for list items without errors
                    out.extend(flatten_details(item, f"{prefix}[{index}]"))
    else:
        out.append({"field": prefix or None, "message": str(detail)})
    return out


def _drf_message(exc: drf_exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, Mapping) and "detail" in detail:
        detail = detail["detail"]
    if isinstance(detail, (str, drf_exceptions.ErrorDetail)):
        return str(detail)
    return exc.default_detail if isinstance(exc.default_detail, str) else "Request failed"


def _response(
    status_code: int,
    message: str,
    details: list[Detail] | None = None,
    *,
    code: str | None = None,
    reason: str = "",
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = error_body(code or STATUS_CODES.get(status_code, "ERROR"), message, details, reason=reason)
    response = Response(body, status=status_code)
    for name, value in (headers or {}).items():
        response[name] = value
    return response


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response:
    """DRF's EXCEPTION_HANDLER: every exception becomes the envelope."""
    from axes.exceptions import AxesBackendPermissionDenied  # axes imports models

    if isinstance(exc, ApplicationError):
        return _response(
            exc.status_code, exc.message, exc.details, code=exc.code, reason=exc.reason, headers=exc.headers()
        )

    if isinstance(exc, AxesBackendPermissionDenied):
        return _response(429, LOCKED_OUT_MESSAGE, headers=_lockout_headers())

    if isinstance(exc, django_exceptions.RequestDataTooBig):
        return _response(413, "Request body too large")

    if isinstance(exc, django_exceptions.TooManyFieldsSent | django_exceptions.TooManyFilesSent):
        # A form body past DATA_UPLOAD_MAX_NUMBER_FIELDS (a definition spelt out as form fields, say).
        return _response(
            400, "Too many form fields: send a body this large as JSON", [{"field": None, "message": str(exc)}]
        )

    if isinstance(exc, django_exceptions.ValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return _response(400, "Request validation failed", flatten_details(detail))

    if isinstance(exc, Http404):
        exc = drf_exceptions.NotFound()
    elif isinstance(exc, django_exceptions.PermissionDenied):
        exc = drf_exceptions.PermissionDenied()

    if isinstance(exc, drf_exceptions.ValidationError):
        return _response(400, "Request validation failed", flatten_details(exc.detail))

    if isinstance(exc, drf_exceptions.ParseError):
        return _response(
            400, f"Malformed request body: {_drf_message(exc)}", [{"field": None, "message": _drf_message(exc)}]
        )

    if isinstance(exc, drf_exceptions.Throttled):
        wait = int(exc.wait or 1)
        return _response(
            429,
            f"Rate limit exceeded; retry in {wait} seconds",
            headers={"Retry-After": str(wait)},
        )

    if isinstance(exc, (drf_exceptions.NotAuthenticated, drf_exceptions.AuthenticationFailed)):
        headers = {}
        request = context.get("request")
        if request is not None and request.authenticators:
            header = request.authenticators[0].authenticate_header(request)
            if header:
                headers["WWW-Authenticate"] = header
        return _response(401, _drf_message(exc), headers=headers)

    if isinstance(exc, drf_exceptions.APIException):
        return _response(exc.status_code, _drf_message(exc))

    if dependency_unavailable(exc):
        return _response(503, UNAVAILABLE_MESSAGE, reason=UNAVAILABLE_REASON, headers=_retry_after())

    logger.exception("Unhandled error in %s", context.get("view").__class__.__name__ if context.get("view") else "view")
    return _response(status.HTTP_500_INTERNAL_SERVER_ERROR, "Internal server error")


UNAVAILABLE_MESSAGE = "The service is busy or one of its dependencies is unreachable; retry shortly"
UNAVAILABLE_REASON = "DEPENDENCY_UNAVAILABLE"


def dependency_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database, Redis or the broker cannot answer now (down, saturated,
    a connection pool with none free): a 503 ``SERVICE_UNAVAILABLE`` with ``Retry-After``, not a 500.

    That is overload or an outage, not a bug: the client is told to come back, nothing is logged
    as an error (a warning names the cause), and whatever the request had written was rolled back
    with its transaction.
    """
    if not is_outage(exc):
        return False
    logger.warning("Answering 503: a dependency is unavailable (%s: %s)", type(exc).__name__, str(exc)[:300])
    return True


def unavailable_json_response() -> JsonResponse:
    """The 503 as a plain Django response, for middleware."""
    response = JsonResponse(
        error_body("SERVICE_UNAVAILABLE", UNAVAILABLE_MESSAGE, reason=UNAVAILABLE_REASON), status=503
    )
    for name, value in _retry_after().items():
        response[name] = value
    return response


def _retry_after() -> dict[str, str]:
    from django.conf import settings

    return {"Retry-After": str(settings.FLOWBUILDER_RETRY_AFTER_SECONDS)}


LOCKED_OUT_MESSAGE = "Too many failed login attempts; try again later"


def axes_lockout_response(request: Any, original_response: Any = None, credentials: Any = None) -> JsonResponse:
    """django-axes' lock-out answer (``AXES_LOCKOUT_CALLABLE``): 429 in the envelope."""

    response = error_json_response(429, LOCKED_OUT_MESSAGE)
    for name, value in _lockout_headers().items():
        response[name] = value
    return response


def _lockout_headers() -> dict[str, str]:
    """A lock-out says so in every header: no attempts remain until the cool-off ends."""
    from django.conf import settings

    cooloff = int(settings.AXES_COOLOFF_TIME.total_seconds())
    reset = int(time.time()) + cooloff
    return {"Retry-After": str(cooloff), **exhausted_headers(settings.AXES_FAILURE_LIMIT, reset, cooloff)}
