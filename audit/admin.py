"""The audit log in the admin: searchable, filterable, and read-only for everyone."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import Q, QuerySet
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html

from audit.models import AuditEvent
from console.admin_utils import InputFilter, ReadOnlyAdminMixin, pretty_json


class ActorFilter(InputFilter):
    title = "actor (e-mail or id)"
    parameter_name = "actor"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        from flowbuilder.ids import parse_uuid

        pk = parse_uuid(value)
        return queryset.filter(Q(actor_id=pk) if pk else Q(actor_email__iexact=value))


class ObjectIdFilter(InputFilter):
    title = "object id"
    parameter_name = "object_id"

    def queryset(self, request: HttpRequest, queryset: QuerySet[AuditEvent]) -> QuerySet[AuditEvent]:
        value = (self.value() or "").strip()
        return queryset.filter(object_id=value) if value else queryset


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "action", "actor_email", "object_link", "source", "ip", "request_id"]
    list_filter = [
        ("action", admin.AllValuesFieldListFilter),
        ("object_type", admin.AllValuesFieldListFilter),
        "source",
        "created_at",
        ActorFilter,
        ObjectIdFilter,
    ]
    search_fields = ["actor_email", "action", "object_id", "object_repr", "request_id", "ip"]
    date_hierarchy = "created_at"
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    fields = [
        "id",
        "created_at",
        "action",
        "actor",
        "actor_email",
        "object_type",
        "object_id",
        "object_link",
        "changes_pretty",
        "ip",
        "user_agent",
        "request_id",
        "source",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[AuditEvent]:
        # No join: the list shows the kept e-mail, not the user row.
        return super().get_queryset(request).select_related(None)

    @admin.display(description="Object")
    def object_link(self, event: AuditEvent) -> str:
        label = event.object_repr or event.object_id or "—"
        if event.object_type and event.object_id and "." in event.object_type:
            app_label, model_name = event.object_type.split(".", 1)
            try:
                url = reverse(f"admin:{app_label}_{model_name}_change", args=[event.object_id])
            except NoReverseMatch:
                url = None
            if url:
                return format_html('<a href="{}">{}</a> <small>{}</small>', url, label, event.object_type)
        return format_html("{} <small>{}</small>", label, event.object_type)

    @admin.display(description="Changes")
    def changes_pretty(self, event: AuditEvent) -> str:
        return pretty_json(event.changes)

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.is_active and request.user.is_staff and super().has_view_permission(request, obj)
