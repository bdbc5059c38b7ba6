"""The staff console for runs: lists with filters, steps and logs inline, and cancel / retry / rerun.

Every operation goes through :mod:`executions.services` (the API's code
path), which checks the run's state and writes the audit event. Nothing
here edits a run's fields directly: the admin is read-only but for those
operations.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import DurationField, ExpressionWrapper, F, Q, QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import get_object_or_404
from django.urls import path, reverse
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from console import graph
from console.admin_utils import (
    InputFilter,
    OwnerFilter,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    pretty_json,
    seconds,
    status_badge,
)
from console.run import iso_ms, run_view
from executions import services
from executions.models import Execution, ExecutionLog, StepRun
from flowbuilder.api.errors import ApplicationError
from flowbuilder.ids import parse_uuid

INLINE_LOG_LINES = 200
RUN_DURATION = ExpressionWrapper(F("completed_at") - F("started_at"), output_field=DurationField())


class WorkflowFilter(InputFilter):
    title = "workflow (id or name)"
    parameter_name = "workflow"

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = (self.value() or "").strip()
        if not value:
            return queryset
        pk = parse_uuid(value)
        return queryset.filter(workflow_id=pk) if pk else queryset.filter(workflow__name__icontains=value)


class DurationFilter(admin.SimpleListFilter):
    title = "duration"
    parameter_name = "duration"
    BUCKETS = {
        "lt1": ("under 1 s", Q(run_duration__lt=timedelta(seconds=1))),
        "1to10": ("1-10 s", Q(run_duration__gte=timedelta(seconds=1), run_duration__lt=timedelta(seconds=10))),
        "10to60": ("10-60 s", Q(run_duration__gte=timedelta(seconds=10), run_duration__lt=timedelta(minutes=1))),
        "1to10m": ("1-10 min", Q(run_duration__gte=timedelta(minutes=1), run_duration__lt=timedelta(minutes=10))),
        "gt10m": ("over 10 min", Q(run_duration__gte=timedelta(minutes=10))),
    }

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [(key, label) for key, (label, _) in self.BUCKETS.items()]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        bucket = self.BUCKETS.get(self.value() or "")
        return queryset.filter(bucket[1]) if bucket else queryset


class TopLevelFilter(admin.SimpleListFilter):
    title = "kind"
    parameter_name = "kind"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, str]]:
        return [("top", "top-level runs"), ("child", "child runs (sub-workflow, for_each)")]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        if self.value() == "top":
            return queryset.filter(parent__isnull=True)
        if self.value() == "child":
            return queryset.filter(parent__isnull=False)
        return queryset


class StepRunInline(ReadOnlyInline):
    model = StepRun
    fields = ["node_id", "node_type", "status_badge", "attempt", "started_at_ms", "took", "worker", "error_pretty"]
    readonly_fields = fields
    ordering = ["id"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[StepRun]:
        return super().get_queryset(request).defer("output", "state")

    @admin.display(description="Status")
    def status_badge(self, step: StepRun) -> str:
        return status_badge(step.status)

    @admin.display(description="Took")
    @admin.display(description="Started at")
    def started_at_ms(self, step: StepRun) -> str:
        return iso_ms(step.started_at) or "—"

    def took(self, step: StepRun) -> str:
        if step.started_at and step.completed_at:
            return seconds(step.completed_at - step.started_at)
        return "—"

    @admin.display(description="Error")
    def error_pretty(self, step: StepRun) -> str:
        return pretty_json(step.error, limit=2000) if step.error else "—"


class ExecutionLogInline(ReadOnlyInline):
    model = ExecutionLog
    fields = ["created_at_ms", "level", "node_id", "message"]
    readonly_fields = fields
    ordering = ["id"]
    verbose_name_plural = f"Log (the last {INLINE_LOG_LINES} lines; all of them under Execution logs)"

    @admin.display(description="Created at")
    def created_at_ms(self, line: ExecutionLog) -> str:
        return iso_ms(line.created_at) or "—"

    def get_queryset(self, request: HttpRequest) -> QuerySet[ExecutionLog]:
        queryset = super().get_queryset(request).defer("data")
        object_id = parse_uuid((request.resolver_match.kwargs if request.resolver_match else {}).get("object_id"))
        if object_id is None:
            return queryset
        last = ExecutionLog.objects.filter(execution_id=object_id).order_by("-id").values("pk")[:INLINE_LOG_LINES]
        return queryset.filter(pk__in=last)


OPERATIONS = {
    "cancel": ("Cancel", "cancelled"),
    "retry": ("Retry from the failed steps", "retried"),
    "rerun": ("Rerun with the same input", "rerun"),
}


@admin.register(Execution)
class ExecutionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "short_id",
        "workflow_link",
        "status_badge",
        "owner",
        "duration_display",
        "trigger",
        "mode",
        "progress",
        "started_at",
        "created_at",
    ]
    list_display_links = ["short_id"]
    list_filter = [
        "status",
        ("created_at", admin.DateFieldListFilter),
        "trigger",
        "mode",
        DurationFilter,
        TopLevelFilter,
        WorkflowFilter,
        OwnerFilter,
    ]
    list_select_related = ["workflow", "owner"]
    search_fields = ["=id", "workflow__name", "owner__email", "=idempotency_key"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    show_full_result_count = False
    inlines = [StepRunInline, ExecutionLogInline]
    actions = ["cancel_selected", "retry_selected", "rerun_selected"]
    change_form_template = "console/execution_change_form.html"

    class Media:
        css = {"all": ["console/console.css"]}

    fieldsets = (
        (None, {"fields": ("id", "workflow", "workflow_version", "owner", "triggered_by")}),
        ("State", {"fields": ("status_badge", "mode", "trigger", "progress", "current_step", "error_pretty")}),
        ("Data", {"fields": ("input_pretty", "output_pretty")}),
        (
            "Relations",
            {"fields": ("parent", "parent_step", "child_index", "retry_of", "idempotency_key", "webhook_url")},
        ),
        (
            "Times",
            {
                "fields": (
                    "created_at_ms",
                    "dispatched_at_ms",
                    "started_at_ms",
                    "completed_at_ms",
                    "duration_display",
                    "deadline",
                    "scheduled_for",
                    "updated_at_ms",
                )
            },
        ),
    )
    readonly_fields = [field for _, options in fieldsets for field in options["fields"]]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Execution]:
        queryset = super().get_queryset(request).annotate(run_duration=RUN_DURATION)
        match = request.resolver_match
        if match is not None and match.url_name and match.url_name.endswith("_changelist"):
            # The list shows none of the (up to 1 MB) JSON documents.
            queryset = queryset.defer("input_data", "output_data", "error", "workflow__definition", "owner__password")
        return queryset

    # --- columns ------------------------------------------------------------------------------

    @admin.display(description="Run", ordering="created_at")
    def short_id(self, execution: Execution) -> str:
        return str(execution.pk)[:8]

    @admin.display(description="Workflow", ordering="workflow__name")
    def workflow_link(self, execution: Execution) -> str:
        url = reverse("admin:workflows_workflow_change", args=[execution.workflow_id])
        return format_html('<a href="{}">{}</a>', url, execution.workflow.name)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, execution: Execution) -> str:
        return status_badge(execution.status)

    # Ascending with unknown durations first, so that descending ("slowest first") puts them last.
    @admin.display(description="Duration", ordering=F("run_duration").asc(nulls_first=True))
    def duration_display(self, execution: Execution) -> str:
        return seconds(getattr(execution, "run_duration", None))

    @admin.display(description="Created")
    def created_at_ms(self, execution: Execution) -> str:
        return iso_ms(execution.created_at) or "—"

    @admin.display(description="Dispatched")
    def dispatched_at_ms(self, execution: Execution) -> str:
        return iso_ms(execution.dispatched_at) or "—"

    @admin.display(description="Started")
    def started_at_ms(self, execution: Execution) -> str:
        return iso_ms(execution.started_at) or "—"

    @admin.display(description="Completed")
    def completed_at_ms(self, execution: Execution) -> str:
        return iso_ms(execution.completed_at) or "—"

    @admin.display(description="Updated")
    def updated_at_ms(self, execution: Execution) -> str:
        return iso_ms(execution.updated_at) or "—"

    @admin.display(description="Error")
    def error_pretty(self, execution: Execution) -> str:
        return pretty_json(execution.error)

    @admin.display(description="Input")
    def input_pretty(self, execution: Execution) -> str:
        return pretty_json(execution.input_data)

    @admin.display(description="Output")
    def output_pretty(self, execution: Execution) -> str:
        return pretty_json(execution.output_data)

    # --- operations ---------------------------------------------------------------------------

    def has_operate_permission(self, request: HttpRequest) -> bool:
        """Cancel, retry and rerun: superusers, or staff granted ``executions.change_execution``."""
        return request.user.is_active and request.user.is_staff and request.user.has_perm("executions.change_execution")

    def _operate(self, request: HttpRequest, execution: Execution, operation: str) -> Execution | None:
        """Run one operation through the services; report a refusal (wrong state) instead of raising."""
        try:
            if operation == "cancel":
                return services.execution_cancel(execution=execution, reason=f"Cancelled by {request.user.email}")
            if operation == "retry":
                return services.execution_retry(execution=execution, actor=request.user)
            return services.execution_rerun(execution=execution, actor=request.user)
        except ApplicationError as exc:
            self.message_user(request, f"Run {str(execution.pk)[:8]}: {exc.message}", messages.WARNING)
            return None

    def _operate_many(self, request: HttpRequest, queryset: QuerySet[Execution], operation: str) -> None:
        done = [r for r in (self._operate(request, e, operation) for e in queryset.select_related("workflow")) if r]
        if done:
            self.message_user(request, f"{len(done)} run(s) {OPERATIONS[operation][1]}.", messages.SUCCESS)

    @admin.action(description="Cancel the selected runs", permissions=["operate"])
    def cancel_selected(self, request: HttpRequest, queryset: QuerySet[Execution]) -> None:
        self._operate_many(request, queryset, "cancel")

    @admin.action(description="Retry the selected runs from their failed steps", permissions=["operate"])
    def retry_selected(self, request: HttpRequest, queryset: QuerySet[Execution]) -> None:
        self._operate_many(request, queryset, "retry")

    @admin.action(description="Rerun the selected runs with the same input", permissions=["operate"])
    def rerun_selected(self, request: HttpRequest, queryset: QuerySet[Execution]) -> None:
        self._operate_many(request, queryset, "rerun")

    def get_urls(self) -> list[Any]:
        operate = self.admin_site.admin_view(require_POST(self.operate_view))
        live = self.admin_site.admin_view(self.live_view)
        return [
            path("<uuid:object_id>/operate/<str:operation>/", operate, name="executions_execution_operate"),
            path("<uuid:object_id>/live.json", live, name="executions_execution_live"),
            *super().get_urls(),
        ]

    def operate_view(self, request: HttpRequest, object_id: Any, operation: str) -> HttpResponse:
        """The buttons on a run's page: POST cancel / retry / rerun, then show the resulting run."""
        if operation not in OPERATIONS or not self.has_operate_permission(request):
            raise PermissionDenied
        execution = get_object_or_404(Execution.objects.select_related("workflow"), pk=object_id)
        result = self._operate(request, execution, operation)
        target = execution
        if result is not None:
            self.message_user(request, f"Run {OPERATIONS[operation][1]}.", messages.SUCCESS)
            target = result
        return HttpResponseRedirect(reverse("admin:executions_execution_change", args=[target.pk]))

    def _run(self, request: HttpRequest, object_id: Any) -> Execution | None:
        pk = parse_uuid(object_id)
        execution = (
            Execution.objects.select_related("workflow", "workflow_version").filter(pk=pk).first() if pk else None
        )
        if execution is None or not self.has_view_permission(request, execution):
            return None
        return execution

    def live_view(self, request: HttpRequest, object_id: Any) -> JsonResponse:
        """The run page's data again, fetched by its script when the socket says something changed."""
        execution = self._run(request, object_id)
        if execution is None:
            raise Http404("No such run")
        return JsonResponse(run_view(execution))

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict[str, Any] | None = None
    ) -> HttpResponse:
        execution = self._run(request, object_id)
        extra: dict[str, Any] = {
            "logs_url": reverse("admin:executions_executionlog_changelist") + f"?execution__exact={object_id}",
            "steps_url": reverse("admin:executions_steprun_changelist") + f"?execution__exact={object_id}",
        }
        if execution is not None:
            run = run_view(execution)
            offered = {"cancel": run["cancellable"], "retry": run["retryable"], "rerun": True}
            extra.update(
                run=run,
                title=f"{execution.workflow.name} · run {str(execution.pk)[:8]}",
                subtitle="",  # the title says it; the run's str() is ids
                live_url=reverse("admin:executions_execution_live", args=[execution.pk]),
                run_graph=graph.render(
                    execution.workflow_version.definition,
                    statuses={s["node_id"]: s["status"] for s in run["steps"]},
                ),
                operations=[
                    (name, label, reverse("admin:executions_execution_operate", args=[object_id, name]))
                    for name, (label, _) in OPERATIONS.items()
                    if offered[name]
                ]
                if self.has_operate_permission(request)
                else [],
            )
        return super().change_view(request, object_id, form_url, {**extra, **(extra_context or {})})


@admin.register(StepRun)
class StepRunAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = [
        "node_id",
        "node_type",
        "status_badge",
        "attempt",
        "execution_link",
        "workflow_name",
        "queued_at",
        "started_at",
        "lease_expires_at",
        "worker",
    ]
    list_filter = ["status", "node_type", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["execution__workflow"]
    search_fields = ["node_id", "=execution__id", "worker"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = [
        "execution",
        "node_id",
        "node_type",
        "status",
        "attempt",
        "worker",
        "created_at",
        "queued_at",
        "started_at",
        "completed_at",
        "lease_expires_at",
        "next_attempt_at",
        "wake_at",
        "ports",
        "error_pretty",
        "output_pretty",
    ]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[StepRun]:
        return (
            super()
            .get_queryset(request)
            .defer(
                "output",
                "state",
                "execution__input_data",
                "execution__output_data",
                "execution__error",
                "execution__workflow__definition",
            )
        )

    @admin.display(description="Status", ordering="status")
    def status_badge(self, step: StepRun) -> str:
        return status_badge(step.status)

    @admin.display(description="Run")
    def execution_link(self, step: StepRun) -> str:
        url = reverse("admin:executions_execution_change", args=[step.execution_id])
        return format_html('<a href="{}">{}</a>', url, str(step.execution_id)[:8])

    @admin.display(description="Workflow")
    def workflow_name(self, step: StepRun) -> str:
        return step.execution.workflow.name

    @admin.display(description="Error")
    def error_pretty(self, step: StepRun) -> str:
        return pretty_json(step.error)

    @admin.display(description="Output")
    def output_pretty(self, step: StepRun) -> str:
        return pretty_json(step.output)


@admin.register(ExecutionLog)
class ExecutionLogAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["created_at", "level", "node_id", "message_short", "execution_link"]
    list_filter = ["level", ("created_at", admin.DateFieldListFilter)]
    search_fields = ["message", "node_id", "=execution__id"]
    ordering = ["-id"]
    show_full_result_count = False
    fields = ["execution", "created_at", "level", "node_id", "message", "data_pretty"]
    readonly_fields = fields

    @admin.display(description="Message")
    def message_short(self, entry: ExecutionLog) -> str:
        return entry.message if len(entry.message) <= 160 else entry.message[:160] + "…"

    @admin.display(description="Run")
    def execution_link(self, entry: ExecutionLog) -> str:
        url = reverse("admin:executions_execution_change", args=[entry.execution_id])
        return format_html('<a href="{}">{}</a>', url, str(entry.execution_id)[:8])

    @admin.display(description="Data")
    def data_pretty(self, entry: ExecutionLog) -> str:
        return pretty_json(entry.data)
