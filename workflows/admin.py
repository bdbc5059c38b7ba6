"""The staff console for workflows: versions with diffs, sharing, tags, activate / deactivate.

Changes go through :mod:`workflows.services` (validation, versions, audit
events by the audit app's signal registry). Workflows are created through
the API or ``manage.py import_workflows``, where definitions are validated;
the admin edits their metadata and their state, not their definitions.
"""

from __future__ import annotations

import difflib
import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import admin, messages
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from console import graph
from console.admin_utils import (
    CascadeSummaryMixin,
    OwnerFilter,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    pretty_json,
    seconds,
)
from executions.models import Execution
from flowbuilder.ids import parse_uuid
from workflows import selectors, services
from workflows.models import Tag, Workflow, WorkflowShare, WorkflowVersion

INLINE_VERSIONS = 50


def definition_lines(definition: Any) -> list[str]:
    return json.dumps(definition, indent=2, sort_keys=True, ensure_ascii=False, default=str).splitlines()


def version_diff(old: WorkflowVersion | None, new: WorkflowVersion) -> list[tuple[str, str]]:
    """A unified diff of two versions' pretty-printed definitions, as (css class, line) pairs."""
    before = definition_lines(old.definition) if old is not None else []
    after = definition_lines(new.definition)
    lines = difflib.unified_diff(
        before, after, fromfile=f"version {old.number if old else 0}", tofile=f"version {new.number}", lineterm="", n=3
    )
    out = []
    for line in lines:
        if line.startswith(("+++", "---")):
            kind = "file"
        elif line.startswith("@@"):
            kind = "hunk"
        elif line.startswith("+"):
            kind = "add"
        elif line.startswith("-"):
            kind = "del"
        else:
            kind = "ctx"
        out.append((kind, line))
    return out


def diff_url(version: WorkflowVersion) -> str:
    """The diff of ``version`` against the one before it."""
    url = reverse("admin:workflows_workflow_diff", args=[version.workflow_id])
    return f"{url}?{urlencode({'a': version.number - 1, 'b': version.number})}"


class WorkflowVersionInline(ReadOnlyInline):
    model = WorkflowVersion
    fields = ["number", "author", "note", "created_at", "diff_link"]
    readonly_fields = fields
    ordering = ["-number"]
    verbose_name_plural = f"Versions (the last {INLINE_VERSIONS})"

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowVersion]:
        queryset = super().get_queryset(request).select_related("author").defer("definition")
        object_id = parse_uuid((request.resolver_match.kwargs if request.resolver_match else {}).get("object_id"))
        if object_id is None:
            return queryset
        last = WorkflowVersion.objects.filter(workflow_id=object_id).order_by("-number").values("pk")[:INLINE_VERSIONS]
        return queryset.filter(pk__in=last)

    @admin.display(description="Diff")
    def diff_link(self, version: WorkflowVersion) -> str:
        if version.number <= 1:
            return "—"
        return format_html('<a href="{}">changes from v{}</a>', diff_url(version), version.number - 1)


class WorkflowShareInline(ReadOnlyInline):
    model = WorkflowShare
    fields = ["user", "role", "created_at"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowShare]:
        return super().get_queryset(request).select_related("user")


class WorkflowForm(forms.ModelForm):
    class Meta:
        model = Workflow
        fields = ["name", "description", "category", "is_active"]


@admin.register(Workflow)
class WorkflowAdmin(CascadeSummaryMixin, admin.ModelAdmin):
    form = WorkflowForm

    class Media:
        css = {"all": ["console/console.css"]}

    list_display = [
        "name",
        "owner",
        "category",
        "is_active",
        "version",
        "tag_list",
        "execution_count",
        "last_execution_at",
        "updated_at",
    ]
    list_filter = ["is_active", ("category", admin.AllValuesFieldListFilter), "tags", "updated_at", OwnerFilter]
    list_select_related = ["owner"]
    search_fields = ["name", "description", "owner__email", "=id"]
    ordering = ["-updated_at"]
    show_full_result_count = False
    inlines = [WorkflowVersionInline, WorkflowShareInline]
    actions = ["activate_selected", "deactivate_selected"]
    fieldsets = (
        (None, {"fields": ("id", "name", "description", "category", "is_active", "owner", "tag_list")}),
        (
            "Definition",
            {"fields": ("version", "diff_link", "trigger_summary", "definition_graph", "definition_pretty")},
        ),
        ("Runs", {"fields": ("run_stats", "runs_link")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )
    readonly_fields = [
        "id",
        "owner",
        "tag_list",
        "version",
        "diff_link",
        "trigger_summary",
        "definition_graph",
        "definition_pretty",
        "run_stats",
        "runs_link",
        "created_at",
        "updated_at",
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Workflow]:
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name and match.url_name.endswith("_changelist"):
            runs = Execution.objects.filter(workflow=OuterRef("pk"), parent__isnull=True).order_by()
            count = runs.values("workflow").annotate(n=Count("*")).values("n")
            last = runs.order_by("-created_at").values("created_at")[:1]
            queryset = (
                queryset.defer("definition", "owner__password")
                .prefetch_related("tags")
                .annotate(
                    execution_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
                    last_execution_at=Subquery(last),
                )
            )
        return queryset

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # through the API or `manage.py import_workflows`, which validate definitions

    # --- columns and read-only fields ---------------------------------------------------------------

    @admin.display(description="Tags")
    def tag_list(self, workflow: Workflow) -> str:
        return ", ".join(sorted(tag.name for tag in workflow.tags.all())) or "—"

    @admin.display(description="Runs", ordering="execution_count")
    def execution_count(self, workflow: Workflow) -> int:
        return workflow.execution_count

    @admin.display(description="Last run", ordering="last_execution_at")
    def last_execution_at(self, workflow: Workflow) -> Any:
        return workflow.last_execution_at

    @admin.display(description="Graph")
    def definition_graph(self, workflow: Workflow) -> str:
        return graph.render(workflow.definition)

    @admin.display(description="Definition (JSON)")
    def definition_pretty(self, workflow: Workflow) -> str:
        return format_html(
            "<details><summary>Show</summary>{}</details>", pretty_json(workflow.definition, limit=100_000)
        )

    @admin.display(description="Trigger")
    def trigger_summary(self, workflow: Workflow) -> str:
        return pretty_json(selectors.workflow_trigger(workflow))

    @admin.display(description="Changes")
    def diff_link(self, workflow: Workflow) -> str:
        if workflow.version <= 1:
            return "—"
        url = reverse("admin:workflows_workflow_diff", args=[workflow.pk])
        return format_html('<a href="{}">diff between versions</a>', url)

    @admin.display(description="Statistics")
    def run_stats(self, workflow: Workflow) -> str:
        stats = selectors.workflow_execution_stats(workflow)
        return format_html(
            "{} runs: {} completed, {} failed; average {}",
            stats["total_executions"],
            stats["successful_executions"],
            stats["failed_executions"],
            seconds(stats["average_duration"]),
        )

    @admin.display(description="Runs")
    def runs_link(self, workflow: Workflow) -> str:
        url = reverse("admin:executions_execution_changelist") + f"?workflow={workflow.pk}"
        return format_html('<a href="{}">all runs of this workflow</a>', url)

    # --- writes through the services -------------------------------------------------------------

    def save_model(self, request: HttpRequest, obj: Workflow, form: forms.ModelForm, change: bool) -> None:
        fields = {name: form.cleaned_data[name] for name in form.changed_data if name in WorkflowForm.Meta.fields}
        if fields:
            updated = services.workflow_update(workflow=obj, actor=request.user, **fields)
            obj.version, obj.updated_at = updated.version, updated.updated_at

    def delete_summary(self, objs: list[Workflow]) -> dict[str, int]:
        return {
            "versions": WorkflowVersion.objects.filter(workflow__in=objs).count(),
            "runs (with their steps and logs)": Execution.objects.filter(workflow__in=objs).count(),
            "shares": WorkflowShare.objects.filter(workflow__in=objs).count(),
        }

    def delete_model(self, request: HttpRequest, obj: Workflow) -> None:
        services.workflow_delete(workflow=obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        for workflow in queryset:
            services.workflow_delete(workflow=workflow)

    def _set_active(self, request: HttpRequest, queryset: QuerySet[Workflow], active: bool) -> None:
        changed = 0
        for workflow in queryset.filter(is_active=not active).defer("definition"):
            services.workflow_update(workflow=workflow, actor=request.user, is_active=active)
            changed += 1
        verb = "activated" if active else "deactivated"
        self.message_user(request, f"{changed} workflow(s) {verb}.", messages.SUCCESS)

    @admin.action(description="Activate the selected workflows", permissions=["change"])
    def activate_selected(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        self._set_active(request, queryset, True)

    @admin.action(description="Deactivate the selected workflows", permissions=["change"])
    def deactivate_selected(self, request: HttpRequest, queryset: QuerySet[Workflow]) -> None:
        self._set_active(request, queryset, False)

    # --- the diff view ---------------------------------------------------------------------------

    def get_urls(self) -> list[Any]:
        return [
            path(
                "<uuid:object_id>/diff/",
                self.admin_site.admin_view(self.diff_view),
                name="workflows_workflow_diff",
            ),
            *super().get_urls(),
        ]

    def diff_view(self, request: HttpRequest, object_id: Any) -> HttpResponse:
        """A read-only diff between two versions (``?a=&b=``; default: the current one and the one before)."""
        workflow = self.get_object(request, str(object_id))
        if workflow is None or not self.has_view_permission(request, workflow):
            raise Http404("No such workflow")
        numbers = list(
            WorkflowVersion.objects.filter(workflow=workflow).order_by("number").values_list("number", flat=True)
        )

        def number(param: str, default: int) -> int:
            try:
                return int(request.GET.get(param, default))
            except ValueError:
                return default

        b = number("b", workflow.version)
        a = number("a", b - 1)
        versions = {v.number: v for v in WorkflowVersion.objects.filter(workflow=workflow, number__in=[a, b])}
        if b not in versions:
            raise Http404(f"No version {b}")
        lines = version_diff(versions.get(a), versions[b])
        old = versions[a].definition if a in versions else None
        on_old, on_new = graph.node_changes(old, versions[b].definition)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "original": workflow,
            "title": f"{workflow.name}: version {a} → {b}",
            "a": a,
            "b": b,
            "numbers": numbers,
            "lines": lines,
            "has_changes": any(kind in ("add", "del") for kind, _ in lines),
            "graph_a": graph.render(old, changes=on_old, graph_id="a") if old is not None else "",
            "graph_b": graph.render(versions[b].definition, changes=on_new, graph_id="b"),
            "media": self.media,
            "change_url": reverse("admin:workflows_workflow_change", args=[workflow.pk]),
        }
        return TemplateResponse(request, "console/workflow_diff.html", context)


@admin.register(WorkflowVersion)
class WorkflowVersionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["workflow", "number", "author", "note", "created_at", "diff_link"]
    list_select_related = ["workflow", "author"]
    list_filter = ["created_at"]
    search_fields = ["workflow__name", "=workflow__id", "note", "author__email"]
    ordering = ["-created_at"]
    show_full_result_count = False
    fields = ["workflow", "number", "author", "note", "created_at", "diff_link", "definition_pretty"]
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowVersion]:
        queryset = super().get_queryset(request).defer("workflow__definition", "author__password")
        match = request.resolver_match
        if match is not None and match.url_name and match.url_name.endswith("_changelist"):
            queryset = queryset.defer("definition")
        return queryset

    @admin.display(description="Diff")
    def diff_link(self, version: WorkflowVersion) -> str:
        return format_html('<a href="{}">changes</a>', diff_url(version))

    @admin.display(description="Definition")
    def definition_pretty(self, version: WorkflowVersion) -> str:
        return pretty_json(version.definition, limit=100_000)


class WorkflowShareForm(forms.ModelForm):
    class Meta:
        model = WorkflowShare
        fields = ["workflow", "user", "role"]

    def clean(self) -> dict[str, Any]:
        # The service's own checks, as form errors rather than a failed save.
        data = super().clean()
        workflow, user = data.get("workflow"), data.get("user")
        if workflow is not None and user is not None:
            if user.pk == workflow.owner_id:
                self.add_error("user", "The owner already has full access.")
            elif not user.is_active or user.is_guest:
                self.add_error("user", "Workflows are shared with active, registered users only.")
        return data


@admin.register(WorkflowShare)
class WorkflowShareAdmin(admin.ModelAdmin):
    form = WorkflowShareForm
    list_display = ["workflow", "user", "role", "created_at"]
    list_filter = ["role", "created_at"]
    list_select_related = ["workflow", "user"]
    search_fields = ["workflow__name", "user__email", "=workflow__id"]
    autocomplete_fields = ["workflow", "user"]
    ordering = ["-created_at"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[WorkflowShare]:
        return super().get_queryset(request).defer("workflow__definition", "user__password")

    def get_readonly_fields(self, request: HttpRequest, obj: WorkflowShare | None = None) -> list[str]:
        return ["workflow", "user", "created_at"] if obj is not None else ["created_at"]

    def save_model(self, request: HttpRequest, obj: WorkflowShare, form: forms.ModelForm, change: bool) -> None:
        share = services.workflow_share(workflow=obj.workflow, email=obj.user.email, role=obj.role)
        obj.pk, obj.created_at = share.pk, share.created_at

    def delete_model(self, request: HttpRequest, obj: WorkflowShare) -> None:
        services.workflow_unshare(workflow=obj.workflow, user_id=obj.user_id)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[WorkflowShare]) -> None:
        for share in queryset.select_related("workflow"):
            services.workflow_unshare(workflow=share.workflow, user_id=share.user_id)


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "workflow_count"]
    search_fields = ["name"]
    ordering = ["name"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Tag]:
        return super().get_queryset(request).annotate(workflow_count=Count("workflows"))

    @admin.display(description="Workflows", ordering="workflow_count")
    def workflow_count(self, tag: Tag) -> int:
        return tag.workflow_count
