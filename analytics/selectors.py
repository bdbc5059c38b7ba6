"""Analytics reads: runs, API calls and AI usage of one user over a period, as database aggregates.

"A user's runs" are the top-level runs of the workflows they own (whoever
started them: the owner pays for a shared workflow's runs); child runs of
sub-workflow and for_each steps are part of their parent's run. API calls
are counted per UTC day (see :mod:`analytics.usage`), so a period that
starts or ends inside a day counts that whole day.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

from django.apps import apps
from django.conf import settings
from django.db import models
from django.db.models import Avg, Count, F, FloatField, Max, Q, QuerySet, Sum, Value
from django.db.models.functions import Cast, Coalesce, NullIf, TruncDate

from accounts.models import User
from analytics.models import ApiUsageDaily
from analytics.usage import pending_calls
from executions.models import Execution
from monitoring.selectors import SecondsBetween

FAILED = (Execution.Status.FAILED, Execution.Status.TIMED_OUT)

# The AI usage record's fields (the integrations app's AIUsage): our name -> candidate model field names.
AI_USAGE_FIELDS: dict[str, tuple[str, ...]] = {
    "user": ("user", "owner"),
    "provider": ("provider", "provider_name"),
    "model": ("model", "model_name"),
    "prompt_tokens": ("prompt_tokens", "input_tokens"),
    "completion_tokens": ("completion_tokens", "output_tokens"),
    "total_tokens": ("total_tokens", "tokens"),
    "cost": ("cost", "cost_usd"),
    "created_at": ("created_at", "created", "timestamp"),
}


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime

    def days(self) -> list[date]:
        """The UTC days the period touches."""
        first, last = self.start.astimezone(UTC).date(), (self.end - timedelta(microseconds=1)).astimezone(UTC).date()
        return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _runs(user: User, period: Period) -> QuerySet[Execution]:
    return Execution.objects.filter(
        owner=user, parent__isnull=True, created_at__gte=period.start, created_at__lt=period.end
    )


def _run_counts() -> dict[str, Any]:
    return {
        "executions": Count("pk"),
        "completed": Count("pk", filter=Q(status=Execution.Status.COMPLETED)),
        "failed": Count("pk", filter=Q(status__in=FAILED)),
        "cancelled": Count("pk", filter=Q(status=Execution.Status.CANCELLED)),
        "active": Count("pk", filter=Q(status__in=Execution.ACTIVE)),
        "average_duration": Avg(
            SecondsBetween("started_at", "completed_at"),
            filter=Q(started_at__isnull=False, completed_at__isnull=False),
        ),
    }


def _success_rate() -> Any:
    """completed / (completed + failed), in the database; null when nothing ended either way."""
    return Cast(F("completed"), FloatField()) / NullIf(Cast(F("completed") + F("failed"), FloatField()), Value(0.0))


def _rate(completed: int, failed: int) -> float | None:
    return round(completed / (completed + failed), 4) if completed + failed else None


def _seconds(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def api_calls(user: User, period: Period) -> tuple[int, dict[date, int]]:
    """The user's API calls in the period's days: flushed rows plus the counters not flushed yet."""
    days = period.days()
    by_day: dict[date, int] = dict(
        ApiUsageDaily.objects.filter(user=user, day__gte=days[0], day__lte=days[-1]).values_list("day", "count")
    )
    recent = [d for d in days if d >= days[-1] - timedelta(days=3)]  # counters live three days
    for (_, day), amount in pending_calls([user.pk], recent).items():
        by_day[day] = by_day.get(day, 0) + amount
    return sum(by_day.values()), by_day


def usage_summary(user: User, period: Period) -> dict[str, Any]:
    """Runs (total, by outcome, success rate, average duration), API calls and AI usage, with a daily series."""
    runs = _runs(user, period)
    totals = runs.aggregate(**_run_counts())
    daily_runs = {
        row["day"]: row
        for row in runs.annotate(day=TruncDate("created_at", tzinfo=UTC))
        .order_by()
        .values("day")
        .annotate(
            executions=Count("pk"),
            completed=Count("pk", filter=Q(status=Execution.Status.COMPLETED)),
            failed=Count("pk", filter=Q(status__in=FAILED)),
        )
    }
    calls, calls_by_day = api_calls(user, period)
    ai = ai_usage(user, period)
    daily = [
        {
            "date": day,
            "executions": daily_runs.get(day, {}).get("executions", 0),
            "completed": daily_runs.get(day, {}).get("completed", 0),
            "failed": daily_runs.get(day, {}).get("failed", 0),
            "api_calls": calls_by_day.get(day, 0),
        }
        for day in period.days()
    ]
    return {
        "executions": {
            "total": totals["executions"],
            "completed": totals["completed"],
            "failed": totals["failed"],
            "cancelled": totals["cancelled"],
            "active": totals["active"],
            "success_rate": _rate(totals["completed"], totals["failed"]),
            "average_duration": _seconds(totals["average_duration"]),
        },
        "api_calls": calls,
        "llm": {"requests": ai["requests"], "total_tokens": ai["total_tokens"], "cost": ai["cost"]},
        "daily": daily,
    }


def workflow_usage(user: User, period: Period) -> QuerySet:
    """One row per workflow with runs in the period: counts, success rate, average duration, last run."""
    return (
        _runs(user, period)
        .order_by()
        .values("workflow_id")
        .annotate(name=F("workflow__name"), **_run_counts(), last_run_at=Max("created_at"))
        .annotate(success_rate=_success_rate())
        .order_by("-executions", "name", "workflow_id")
    )


# --- AI usage (the integrations app's records) ------------------------------------------------------


def ai_usage_model() -> type[models.Model] | None:
    """The AI usage model (``FLOWBUILDER_AI_USAGE_MODEL``), or None while it is not installed."""
    label = settings.FLOWBUILDER_AI_USAGE_MODEL
    if not label:
        return None
    try:
        return apps.get_model(label)
    except (LookupError, ValueError):
        return None


def _ai_fields(model: type[models.Model]) -> dict[str, str | None]:
    names = {f.name for f in model._meta.get_fields()}
    return {ours: next((c for c in candidates if c in names), None) for ours, candidates in AI_USAGE_FIELDS.items()}


def _ai_sums(fields: dict[str, str | None]) -> dict[str, Any]:
    def total(name: str, output: models.Field) -> Any:
        column = fields[name]
        return Coalesce(Sum(column), Value(0), output_field=output) if column else Value(0, output_field=output)

    sums = {
        "requests": Count("pk"),
        "prompt_tokens": total("prompt_tokens", models.BigIntegerField()),
        "completion_tokens": total("completion_tokens", models.BigIntegerField()),
        "cost": total("cost", models.FloatField()),
    }
    if fields["total_tokens"]:
        sums["total_tokens"] = total("total_tokens", models.BigIntegerField())
    return sums


def _ai_row(row: dict[str, Any]) -> dict[str, Any]:
    prompt, completion = int(row["prompt_tokens"] or 0), int(row["completion_tokens"] or 0)
    return {
        **{k: v for k, v in row.items() if k in ("provider", "model")},
        "requests": row["requests"],
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": int(row.get("total_tokens") or prompt + completion),
        "cost": round(float(row["cost"] or 0), 6),
    }


def _grouped(
    queryset: QuerySet, fields: dict[str, str | None], keys: tuple[str, ...], sums: dict[str, Any]
) -> list[dict[str, Any]]:
    """Rows grouped by our ``keys`` (named as ours whatever the model calls them); [] if the model lacks one."""
    if not all(fields[k] for k in keys):
        return []
    plain = [k for k in keys if fields[k] == k]
    renamed = {k: F(fields[k]) for k in keys if fields[k] != k}
    rows = queryset.order_by().values(*plain, **renamed).annotate(**sums).order_by(*keys)
    return [_ai_row(row) for row in rows]


def ai_usage(user: User | None, period: Period) -> dict[str, Any]:
    """LLM requests, tokens and cost in the period, in total, per provider and per (provider, model).

    Zeros and ``available: false`` while no AI usage model is installed.
    """
    empty = {"available": False, "requests": 0, "total_tokens": 0, "cost": 0.0, "providers": [], "models": []}
    model = ai_usage_model()
    if model is None:
        return empty
    fields = _ai_fields(model)
    if not fields["created_at"]:
        return empty
    queryset = model._default_manager.filter(
        **{f"{fields['created_at']}__gte": period.start, f"{fields['created_at']}__lt": period.end}
    )
    if user is not None and fields["user"]:
        queryset = queryset.filter(**{fields["user"]: user})
    sums = _ai_sums(fields)
    providers = _grouped(queryset, fields, ("provider",), sums)
    models_ = _grouped(queryset, fields, ("provider", "model"), sums)
    totals = _ai_row(queryset.aggregate(**sums))
    return {
        "available": True,
        "requests": totals["requests"],
        "total_tokens": totals["total_tokens"],
        "cost": totals["cost"],
        "providers": providers,
        "models": models_,
    }
