"""Counts API calls per user and day (see :mod:`analytics.usage`)."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from analytics.usage import count_api_call


class ApiUsageMiddleware:
    """Counts each request under ``/api/`` made by an authenticated user (JWT, API key or session).

    Reads ``request.user`` after the view ran, since DRF authenticates inside the view.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith("/api/"):
            user = getattr(request, "user", None)
            if user is not None and user.is_authenticated:
                count_api_call(user.pk)
        return response
