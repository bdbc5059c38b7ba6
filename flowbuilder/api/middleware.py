"""HTTP middleware for the API conventions of SPEC §2."""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.urls import is_valid_path

from flowbuilder.api.errors import dependency_unavailable, error_json_response, unavailable_json_response
from flowbuilder.api.parsers import NUL_MESSAGE
from flowbuilder.api.request_id import get_request_id, new_request_id, reset_request_id, set_request_id

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"


def is_api_path(path: str) -> bool:
    return path.startswith(API_PREFIX)


class RequestIDLogFilter(logging.Filter):
    """Adds ``record.request_id`` (or ``-``) so every log line can carry it."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = get_request_id() or "-"
        return True


class RequestIDMiddleware:
    """Takes or makes the request id and returns it in ``X-Request-ID``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request_id = new_request_id(request.headers.get("X-Request-ID"))
        request.request_id = request_id  # type: ignore[attr-defined]
        token = set_request_id(request_id)
        try:
            response = self.get_response(request)
        finally:
            reset_request_id(token)
        response["X-Request-ID"] = request_id
        return response


class RequestSizeLimitMiddleware:
    """Refuses API bodies over ``API_MAX_BODY_BYTES`` by their declared length.

    Bodies without a length (chunked) are bounded by the JSON parser and by
    Django's ``DATA_UPLOAD_MAX_MEMORY_SIZE``. Paths in
    ``API_BODY_LIMIT_OVERRIDES`` (uploads) have their own limit.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_api_path(request.path) or request.path.startswith("/hooks/"):
            limit = getattr(settings, "API_BODY_LIMIT_OVERRIDES", {}).get(request.path, settings.API_MAX_BODY_BYTES)
            try:
                length = int(request.META.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = 0
            if length > limit:
                return error_json_response(413, f"Request body too large: {length} bytes, the limit is {limit} bytes")
        return self.get_response(request)


class RateLimitHeadersMiddleware:
    """Copies the throttle's counters into ``X-RateLimit-*`` headers."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        state = getattr(request, "rate_limit", None)
        # An answer that set its own (a lock-out, a webhook's limit) keeps them: the headers agree with it.
        if state is not None and "X-RateLimit-Remaining" not in response:
            response["X-RateLimit-Limit"] = str(state.limit)
            response["X-RateLimit-Remaining"] = str(state.remaining)
            response["X-RateLimit-Reset"] = str(state.reset)
            response["X-RateLimit-Window"] = str(state.window)
        return response


class ApiErrorMiddleware:
    """Gives errors raised outside DRF under ``/api/`` the same envelope.

    Unmatched URLs and Django-level 404/405 answers (which are HTML) and
    unhandled exceptions become JSON; a 500 never leaks a traceback.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if not is_api_path(request.path) or response.get("Content-Type", "").startswith("application/json"):
            return response
        if response.status_code == 404:
            return error_json_response(404, "Not found")
        if response.status_code == 405:
            answer = error_json_response(405, f"Method {request.method} not allowed")
            if response.has_header("Allow"):
                answer["Allow"] = response["Allow"]
            return answer
        if response.status_code >= 500:
            return error_json_response(500, "Internal server error")
        return response

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_api_path(request.path):
            return None
        from django.core.exceptions import RequestDataTooBig
        from django.http import Http404

        if isinstance(exception, Http404):
            return error_json_response(404, "Not found")
        if isinstance(exception, RequestDataTooBig):
            return error_json_response(413, "Request body too large")
        if dependency_unavailable(exception):
            return unavailable_json_response()
        logger.exception("Unhandled error on %s %s", request.method, request.path)
        return error_json_response(500, "Internal server error")


class TrailingSlashMiddleware:
    """``/api/v1/auth/register/`` is served as ``/api/v1/auth/register`` (seed 001 writes its paths so).

    Rewritten before routing, for every method: no redirect, which a client would not follow
    with its POST body. Only API paths that do not resolve as written and do without the slash.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info
        if path.startswith("/api/") and path.endswith("/") and len(path) > 1:
            urlconf = getattr(request, "urlconf", None)
            if not is_valid_path(path, urlconf) and is_valid_path(path.rstrip("/"), urlconf):
                request.path_info = path.rstrip("/")
                request.path = request.path[: -(len(path) - len(request.path_info))]
        return self.get_response(request)


class NulCharacterMiddleware:
    """A NUL character in an API or webhook URL's path or query is a 400 at the parameter.

    The database cannot store or compare ``\\u0000``; bodies are checked by the JSON parser
    and the webhook's reader (``flowbuilder.api.parsers.reject_nul``), DRF's CharField refuses it.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(("/api/", "/hooks/")):
            if "\x00" in request.path:
                return error_json_response(400, NUL_MESSAGE, [{"field": None, "message": NUL_MESSAGE}])
            for name, values in request.GET.lists():
                if "\x00" in name or any("\x00" in value for value in values):
                    return error_json_response(400, NUL_MESSAGE, [{"field": name, "message": NUL_MESSAGE}])
        return self.get_response(request)
