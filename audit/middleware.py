"""Sets the audit context (actor, IP, user agent, request id) for each request."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from audit.context import context_for_request, reset_context, set_context


class AuditContextMiddleware:
    """Place after ``AuthenticationMiddleware`` (and after the request-id middleware)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = set_context(context_for_request(request))
        try:
            return self.get_response(request)
        finally:
            reset_context(token)
