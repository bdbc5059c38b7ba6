"""Filter fields shared by the list endpoints."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import django_filters
from django import forms
from django.db.models import QuerySet
from django_filters.fields import IsoDateTimeField
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework.filters import BaseFilterBackend, OrderingFilter
from rest_framework.request import Request

from flowbuilder.api.errors import ValidationFailed

_ALWAYS = frozenset({"format", "page_size"})  # the browsable API's renderer switch; SPEC §2's alias of size


class UtcIsoDateTimeField(IsoDateTimeField):
    """An ISO 8601 time, answered in UTC (the database refuses offsets past ±15:59); a time
    that is not a year 1-9999 moment in UTC is a 400 at the parameter, not a database error."""

    def to_python(self, value: Any) -> datetime | None:
        result = super().to_python(value)
        if result is None:
            return None
        try:
            return result.astimezone(UTC)
        except (OverflowError, ValueError):
            raise forms.ValidationError(
                "Outside the times that can be stored (years 1 to 9999 in UTC)", code="invalid"
            ) from None


class UtcIsoDateTimeFilter(django_filters.IsoDateTimeFilter):
    field_class = UtcIsoDateTimeField


class KnownQueryParameters(BaseFilterBackend):
    """A list's query parameters are the ones its schema documents: an unknown one is a 400.

    ``?stauts=failed`` would otherwise answer every run, as if the filter had matched. The known
    names are what the view's filter backends and paginator put in the OpenAPI schema, plus a
    view's ``extra_query_parameters``; detail routes (a lookup in the URL) are not checked.
    """

    def filter_queryset(self, request: Request, queryset: QuerySet[Any], view: Any) -> QuerySet[Any]:
        lookup = getattr(view, "lookup_url_kwarg", None) or getattr(view, "lookup_field", None)
        if request.method != "GET" or (lookup and lookup in getattr(view, "kwargs", {})):
            return queryset
        known = _known_parameters(view)
        for name in request.query_params:
            if name not in known:
                listed = ", ".join(sorted(known - _ALWAYS)) or "none"
                raise ValidationFailed(f"Unknown query parameter '{name}'; this list takes: {listed}", field=name)
        return queryset


_known: dict[tuple[type, str | None], frozenset[str]] = {}


def _known_parameters(view: Any) -> frozenset[str]:
    """The names, worked out once per view class and action (they come from class-level declarations)."""
    key = (type(view), getattr(view, "action", None))
    if key not in _known:
        _known[key] = _collect_parameters(view)
    return _known[key]


def _collect_parameters(view: Any) -> frozenset[str]:
    names = set(_ALWAYS) | set(getattr(view, "extra_query_parameters", ()))
    sources = [backend() for backend in getattr(view, "filter_backends", ())]
    if getattr(view, "paginator", None) is not None:
        sources.append(view.paginator)
    for source in sources:
        if isinstance(source, KnownQueryParameters):
            continue
        if isinstance(source, DjangoFilterBackend):
            names |= _filterset_parameters(source, view)
            continue
        for parameter in source.get_schema_operation_parameters(view):
            if parameter.get("in", "query") == "query":
                names.add(parameter["name"])
    return frozenset(names)


def _filterset_parameters(backend: DjangoFilterBackend, view: Any) -> set[str]:
    """The query parameters of the view's filterset: its form's fields, with a range widget's suffixes."""
    filterset_class = backend.get_filterset_class(view, view.get_queryset())
    if filterset_class is None:
        return set()
    names = set()
    for name, field in filterset_class().form.fields.items():
        suffixes = getattr(field.widget, "suffixes", None)
        names |= {f"{name}_{suffix}" if suffix else name for suffix in suffixes} if suffixes else {name}
    return names


class StrictOrderingFilter(OrderingFilter):
    """``?ordering=`` with a field the list cannot be ordered by is a 400 naming the ones it can, not ignored."""

    def get_ordering(self, request: Request, queryset: QuerySet[Any], view: Any) -> Any:
        raw = request.query_params.get(self.ordering_param)
        if raw:
            terms = [term.strip() for term in raw.split(",") if term.strip()]
            valid = set(self.remove_invalid_fields(queryset, terms, view, request))
            wrong = [term for term in terms if term not in valid]
            if wrong:
                fields = ", ".join(name for name, _ in self.get_valid_fields(queryset, view, {"request": request}))
                raise ValidationFailed(
                    f"Cannot order by '{wrong[0]}'; use one of: {fields} (with - before it for descending)",
                    field=self.ordering_param,
                )
        return super().get_ordering(request, queryset, view)
