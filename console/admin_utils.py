"""Helpers the apps' admins share: read-only admins, pretty JSON, free-text filters."""

from __future__ import annotations

import json
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

JSON_PREVIEW_CHARS = 20_000


def pretty_json(value: Any, *, limit: int = JSON_PREVIEW_CHARS) -> str:
    """``value`` as indented JSON in a ``<pre>``, cut at ``limit`` characters."""
    if value is None:
        return "—"
    text = json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)
    if len(text) > limit:
        text = text[:limit] + f"\n… ({len(text) - limit:,} more characters)"
    return format_html('<pre class="console-json">{}</pre>', text)


class ReadOnlyAdminMixin:
    """Nobody adds, changes or deletes through this admin, superusers included (views only)."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest) -> dict[str, Any]:
        actions = super().get_actions(request)  # type: ignore[misc]
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyInline(ReadOnlyAdminMixin, admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False


class InputFilter(admin.SimpleListFilter):
    """A free-text filter box (for lookups with too many values for a list of links).

    Subclasses set ``parameter_name``, ``title`` and implement ``queryset``.
    """

    template = "console/input_filter.html"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        # Must be non-empty for Django to render the filter; the template shows a box instead.
        return [("", "")]

    def choices(self, changelist: Any) -> Any:
        # The other query parameters, carried as hidden inputs so the box narrows the current list.
        hidden = [
            (name, value)
            for name, values in changelist.filter_params.items()
            if name != self.parameter_name
            for value in values
        ]
        yield {
            "value": self.value() or "",
            "parameter_name": self.parameter_name,
            "hidden": hidden,
            "clear_url": changelist.get_query_string(remove=[self.parameter_name]),
        }

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:  # pragma: no cover - abstract
        raise NotImplementedError


class OwnerFilter(InputFilter):
    """Rows whose ``owner`` has this e-mail address or id."""

    title = "owner (e-mail or id)"
    parameter_name = "owner"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        from flowbuilder.ids import parse_uuid

        value = (self.value() or "").strip()
        if not value:
            return queryset
        pk = parse_uuid(value)
        return queryset.filter(owner_id=pk) if pk else queryset.filter(owner__email__iexact=value)


STATUS_COLOURS = {
    "queued": "#6c757d",
    "pending": "#6c757d",
    "running": "#0d6efd",
    "retrying": "#fd7e14",
    "waiting": "#6f42c1",
    "completed": "#198754",
    "failed": "#dc3545",
    "timed_out": "#dc3545",
    "cancelled": "#495057",
    "skipped": "#adb5bd",
}


def status_badge(status: str) -> str:
    colour = STATUS_COLOURS.get(status, "#6c757d")
    return format_html(
        '<span style="background:{};color:#fff;border-radius:8px;padding:1px 8px;font-size:11px;">{}</span>',
        colour,
        status,
    )


def seconds(value: Any) -> str:
    """A duration (timedelta or seconds) as ``1.234 s`` / ``2 min 3 s``; ``—`` when unknown."""
    if value is None:
        return "—"
    total = value.total_seconds() if hasattr(value, "total_seconds") else float(value)
    if total < 60:
        return f"{total:.3f} s"
    minutes, rest = divmod(int(total), 60)
    if minutes < 60:
        return f"{minutes} min {rest} s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes} min"


class CascadeSummaryMixin:
    """For rows whose deletion cascades into many read-only rows (runs, their steps and logs).

    The confirmation page shows counts instead of listing every cascaded
    object (a workflow may have thousands of runs), and the cascade needs no
    delete permission on the read-only admins of what belongs to the row.
    Subclasses implement :meth:`delete_summary`.
    """

    def delete_summary(self, objs: list[Any]) -> dict[str, int]:
        raise NotImplementedError

    def get_deleted_objects(
        self, objs: Any, request: HttpRequest
    ) -> tuple[list[Any], dict[str, int], set[str], list[Any]]:
        objs = list(objs)
        counts = {str(self.model._meta.verbose_name_plural): len(objs)}  # type: ignore[attr-defined]
        counts.update({label: n for label, n in self.delete_summary(objs).items() if n})
        return [str(obj) for obj in objs], counts, set(), []
