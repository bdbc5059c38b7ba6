"""A read-only staff view of runs, their steps and logs (actions and a dashboard come with the console)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from executions.models import Execution, ExecutionLog, StepRun


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class StepRunInline(ReadOnlyInline):
    model = StepRun
    fields = ["node_id", "node_type", "status", "attempt", "started_at", "completed_at", "worker", "output", "error"]
    readonly_fields = fields
    ordering = ["id"]


class ExecutionLogInline(ReadOnlyInline):
    model = ExecutionLog
    fields = ["created_at", "level", "node_id", "message", "data"]
    readonly_fields = fields
    ordering = ["id"]
    classes = ["collapse"]


@admin.register(Execution)
class ExecutionAdmin(admin.ModelAdmin):
    list_display = [
        "id",
        "workflow",
        "status",
        "trigger",
        "mode",
        "progress",
        "owner",
        "created_at",
        "started_at",
        "duration_seconds",
    ]
    list_filter = ["status", "trigger", "mode", "created_at"]
    list_select_related = ["workflow", "owner"]
    search_fields = ["=id", "workflow__name", "owner__email", "idempotency_key"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    inlines = [StepRunInline, ExecutionLogInline]
    fieldsets = (
        (None, {"fields": ("id", "workflow", "workflow_version", "owner", "triggered_by")}),
        ("State", {"fields": ("status", "mode", "trigger", "progress", "current_step", "error")}),
        ("Data", {"fields": ("input_data", "output_data")}),
        (
            "Relations",
            {"fields": ("parent", "parent_step", "child_index", "retry_of", "idempotency_key", "webhook_url")},
        ),
        (
            "Times",
            {
                "fields": (
                    "created_at",
                    "dispatched_at",
                    "started_at",
                    "completed_at",
                    "deadline",
                    "scheduled_for",
                    "updated_at",
                )
            },
        ),
    )
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name and match.url_name.endswith("_changelist"):
            # The list shows none of the (up to 1 MB) JSON documents.
            queryset = queryset.defer("input_data", "output_data", "error", "workflow__definition")
        return queryset

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Duration (s)")
    def duration_seconds(self, execution: Execution) -> float | None:
        duration = execution.duration
        return round(duration, 3) if duration is not None else None
