"""The admin index's dashboard: what is running and failing now, with links into the lists."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from django.urls import reverse
from django.utils import timezone

from audit.models import AuditEvent
from console.charts import duration_chart, runs_chart
from monitoring import selectors


def _changelist(name: str, **params: Any) -> str:
    url = reverse(f"admin:{name}_changelist")
    return f"{url}?{urlencode(params)}" if params else url


def dashboard() -> dict[str, Any]:
    """Figures and links for the template; each figure is one aggregate query (or a cached ping)."""
    now = timezone.now()
    since = now - timedelta(hours=24)
    stats = selectors.run_stats(since=since)
    depth = selectors.queue_depth()
    workers = selectors.workers_seen()
    stuck = selectors.oldest_stuck_step(now=now)
    hours = selectors.hourly_runs(now=now)
    window = {"created_at__gte": since.isoformat(), "kind": "top"}
    runs = "executions_execution"
    return {
        "since": since,
        "stats": stats,
        "failure_percent": round(stats.failure_rate * 100, 1) if stats.failure_rate is not None else None,
        "links": {
            "runs": _changelist(runs, **window),
            "completed": _changelist(runs, status__exact="completed", **window),
            "failed": _changelist(runs, status__in="failed,timed_out", **window),
            "running": _changelist(runs, status__exact="running"),
            "waiting": _changelist(runs, status__exact="waiting"),
            "queued": _changelist(runs, status__exact="queued"),
            "slowest": _changelist(runs, o="-5", **window),
            "audit": _changelist("audit_auditevent", created_at__gte=since.isoformat()),
            "stuck_steps": _changelist("executions_steprun", status__exact="running"),
        },
        "queue": depth,
        "workers": workers,
        "stuck": stuck,
        "stuck_url": reverse("admin:executions_execution_change", args=[stuck.execution_id]) if stuck else None,
        "audit_24h": AuditEvent.objects.filter(created_at__gte=since).count(),
        "runs_chart": runs_chart(hours),
        "duration_chart": duration_chart(hours),
    }
