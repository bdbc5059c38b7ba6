"""Workflow reads: visibility, list annotations, stats, trigger summary."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DurationField,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from accounts.models import User
from executions.engine import cron
from executions.engine.definition import trigger_node
from executions.models import Execution
from flowbuilder.api.errors import NotFound
from flowbuilder.timestamps import utc_iso
from workflows.importers import EXPORT_FORMAT, EXPORT_FORMAT_VERSION
from workflows.models import Workflow, WorkflowShare, WorkflowVersion


def webhook_url(token: str, base_url: str) -> str:
    """Where a webhook trigger with ``token`` is called: ``<base>/hooks/<token>``."""
    return f"{base_url.rstrip('/')}/hooks/{token}"


def workflows_visible_to(user: User) -> QuerySet[Workflow]:
    """Workflows the user owns or that are shared with them; every other one is a 404."""
    shared = WorkflowShare.objects.filter(user=user).values("workflow_id")
    return Workflow.objects.filter(Q(owner=user) | Q(pk__in=Subquery(shared)))


def workflow_list(user: User) -> QuerySet[Workflow]:
    """Visible workflows with ``execution_count``, ``last_execution_at`` and ``share_role``, in one query."""
    # Every run of the workflow, those a parent started (for_each, sub_workflow) included.
    runs = Execution.objects.filter(workflow=OuterRef("pk")).order_by()
    count = runs.values("workflow").annotate(n=Count("*")).values("n")
    last = runs.order_by("-created_at").values("created_at")[:1]
    role = WorkflowShare.objects.filter(workflow=OuterRef("pk"), user=user).values("role")[:1]
    return (
        workflows_visible_to(user)
        .select_related("owner")
        .prefetch_related("tags")
        .annotate(
            execution_count=Coalesce(Subquery(count, output_field=IntegerField()), Value(0)),
            last_execution_at=Subquery(last),
            share_role=Subquery(role),
        )
    )


def workflow_versions(workflow: Workflow) -> QuerySet[WorkflowVersion]:
    """The workflow's versions, newest first."""
    return WorkflowVersion.objects.filter(workflow=workflow).select_related("author").order_by("-number")


def workflow_version(workflow: Workflow, number: int) -> WorkflowVersion:
    """Version ``number`` of the workflow; NotFound if it has none."""
    version = workflow_versions(workflow).filter(number=number).first()
    if version is None:
        raise NotFound(f"Workflow has no version {number}")
    return version


def workflow_shares(workflow: Workflow) -> QuerySet[WorkflowShare]:
    """Who the workflow is shared with, oldest share first."""
    return WorkflowShare.objects.filter(workflow=workflow).select_related("user").order_by("created_at")


def workflow_execution_stats(workflow: Workflow) -> dict[str, Any]:
    duration = ExpressionWrapper(F("completed_at") - F("started_at"), output_field=DurationField())
    stats = Execution.objects.filter(workflow=workflow).aggregate(
        total_executions=Count("id"),
        successful_executions=Count("id", filter=Q(status=Execution.Status.COMPLETED)),
        failed_executions=Count("id", filter=Q(status__in=[Execution.Status.FAILED, Execution.Status.TIMED_OUT])),
        average_duration=Avg(duration, filter=Q(completed_at__isnull=False, started_at__isnull=False)),
    )
    average = stats["average_duration"]
    stats["average_duration"] = round(average.total_seconds(), 3) if average is not None else None
    return stats


def next_run_at(cron_expression: str, tz_name: str, *, after: datetime | None = None) -> datetime | None:
    """The schedule's next tick after ``after`` (default now), reckoned on the clock of ``tz_name`` and
    answered in UTC (SPEC §2: every timestamp ends ``Z``); None if there is none."""
    try:
        tick = cron.next_tick(cron_expression, tz_name, after or timezone.now())
    except cron.CronError:
        return None
    return tick.astimezone(UTC) if tick is not None else None


def workflow_trigger(workflow: Workflow, *, base_url: str | None = None, show_url: bool = True) -> dict[str, Any]:
    """The trigger summary of SPEC: ``{"type": "manual"}``, webhook with its URL, or schedule with its next run.

    The webhook URL is absolute: ``FLOWBUILDER_PUBLIC_URL`` or else ``base_url``
    (the request's scheme and host). It is the webhook's only secret, so it is
    shown only when ``show_url`` (the caller may run the workflow).
    """
    node = trigger_node(workflow.definition) or {"type": "trigger.manual", "config": {}}
    kind = node["type"].removeprefix("trigger.")
    config = node.get("config") or {}
    if kind == "schedule":
        tz_name = config.get("timezone") or "UTC"
        upcoming = next_run_at(config.get("cron", ""), tz_name) if workflow.is_active else None
        return {"type": "schedule", "cron": config.get("cron"), "timezone": tz_name, "next_run_at": upcoming}
    if kind == "webhook":
        base = settings.FLOWBUILDER_PUBLIC_URL or base_url
        url = webhook_url(workflow.webhook_token, base) if show_url and workflow.webhook_token and base else None
        return {
            "type": "webhook",
            "method": config.get("method", "POST"),
            "respond": config.get("respond", "immediately"),
            "signed": bool(config.get("hmac_credential")),
            "url": url,
        }
    return {"type": "manual"}


def workflow_export(workflow: Workflow) -> dict[str, Any]:
    """The portable form ``POST /workflows/import`` takes back."""
    return {
        "format": EXPORT_FORMAT,
        "format_version": EXPORT_FORMAT_VERSION,
        "name": workflow.name,
        "description": workflow.description,
        "category": workflow.category,
        "tags": [tag.name for tag in workflow.tags.all()],
        "definition": workflow.definition,
        "source": {"id": str(workflow.pk), "version": workflow.version},
        "exported_at": utc_iso(),
    }
