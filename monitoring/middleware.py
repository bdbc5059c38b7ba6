"""Counts and times every HTTP request for Prometheus."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from monitoring.prometheus import observe_request


class PrometheusMiddleware:
    """First in ``MIDDLEWARE`` so the latency covers the whole stack; labels by URL pattern name."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        started = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = (match.view_name or match.route or "unnamed") if match is not None else "unmatched"
        observe_request(request.method or "", view, response.status_code, time.perf_counter() - started)
        return response
