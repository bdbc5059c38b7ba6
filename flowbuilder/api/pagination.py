"""Page-number pagination with the envelope of SPEC §2.

``?page=1&size=20`` (``page_size`` is an alias, at most 100; more is a 400) answers
``{"items": [...], "total": 42, "page": 1, "size": 20, "pages": 3}``.
A page past the end is empty rather than an error, so clients can loop
until ``items`` is empty as well as by ``pages``.
"""

from __future__ import annotations

import math
from typing import Any

from django.core.paginator import Paginator
from rest_framework.pagination import BasePagination
from rest_framework.request import Request
from rest_framework.response import Response

from flowbuilder.api.errors import ValidationFailed


def _positive_int(request: Request, name: str, maximum: int | None = None) -> int | None:
    raw = request.query_params.get(name)
    if raw in (None, ""):
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ValidationFailed(f"'{name}' must be a positive integer", field=name) from None
    if value < 1:
        raise ValidationFailed(f"'{name}' must be a positive integer", field=name)
    if maximum is not None and value > maximum:
        raise ValidationFailed(f"'{name}' may be at most {maximum}", field=name)
    return value


class PagePagination(BasePagination):
    default_size = 20
    max_size = 100

    def paginate_queryset(self, queryset: Any, request: Request, view: Any = None) -> list[Any]:
        self.size = (
            _positive_int(request, "size", self.max_size)
            or _positive_int(request, "page_size", self.max_size)
            or self.default_size
        )
        self.page = _positive_int(request, "page") or 1
        paginator = Paginator(queryset, self.size)
        self.total = paginator.count
        start = (self.page - 1) * self.size
        if start >= self.total:
            return []
        return list(queryset[start : start + self.size])

    def get_paginated_response(self, data: list[Any]) -> Response:
        return Response(
            {
                "items": data,
                "total": self.total,
                "page": self.page,
                "size": self.size,
                "pages": math.ceil(self.total / self.size) if self.total else 0,
            }
        )

    def get_paginated_response_schema(self, schema: dict[str, Any]) -> dict[str, Any]:
        return {
            "type": "object",
            "required": ["items", "total", "page", "size", "pages"],
            "properties": {
                "items": schema,
                "total": {"type": "integer", "example": 42},
                "page": {"type": "integer", "example": 1},
                "size": {"type": "integer", "example": 20},
                "pages": {"type": "integer", "example": 3},
            },
        }

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        return [
            {"name": "page", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
            {
                "name": "size",
                "in": "query",
                "required": False,
                "description": "Items per page (max 100); `page_size` is accepted too.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_size},
            },
        ]
