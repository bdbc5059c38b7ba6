"""Django's 404/500 handlers: the error envelope under /api/, Django's pages elsewhere."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.views import defaults

from flowbuilder.api.errors import error_json_response
from flowbuilder.api.middleware import is_api_path


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if is_api_path(request.path):
        return error_json_response(404, "Not found")
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if is_api_path(request.path):
        return error_json_response(500, "Internal server error")
    return defaults.server_error(request)
