"""What the dashboard, the metrics endpoints and Prometheus read: run statistics, queues, workers.

Statistics are computed in the database (aggregates, PostgreSQL's
``percentile_cont``; on SQLite the percentiles are read by ordered offset),
never by loading rows into Python.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.db import connection
from django.db.models import Aggregate, Count, Expression, FloatField, Func, Q, QuerySet
from django.db.models.functions import TruncHour
from django.utils import timezone

from executions.models import Execution, StepRun

logger = logging.getLogger(__name__)

FAILED = (Execution.Status.FAILED, Execution.Status.TIMED_OUT)
WORKERS_CACHE_KEY = "monitoring:workers"


class SecondsBetween(Func):
    """``end - start`` in seconds, as a float, in the database."""

    output_field = FloatField()
    arity = 2  # (start, end)

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # pragma: no cover
        raise NotImplementedError(f"SecondsBetween is not implemented for {connection.vendor}")

    def as_postgresql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self._sql(compiler, connection, "EXTRACT(EPOCH FROM ({end} - {start}))::float8")

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        return self._sql(compiler, connection, "((julianday({end}) - julianday({start})) * 86400.0)")

    def _sql(self, compiler: Any, connection: Any, template: str) -> tuple[str, list[Any]]:
        start_sql, start_params = compiler.compile(self.source_expressions[0])
        end_sql, end_params = compiler.compile(self.source_expressions[1])
        # The template puts end before start: the parameters follow the same order.
        return template.format(start=start_sql, end=end_sql), [*end_params, *start_params]


class PercentileCont(Aggregate):
    """PostgreSQL's ``percentile_cont(p) WITHIN GROUP (ORDER BY expr)``."""

    function = "PERCENTILE_CONT"
    template = "%(function)s(%(fraction)s) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = FloatField()

    def __init__(self, expression: Any, fraction: float, **extra: Any) -> None:
        if not 0 <= fraction <= 1:
            raise ValueError("fraction must be within [0, 1]")
        super().__init__(expression, fraction=repr(float(fraction)), **extra)


def run_seconds() -> SecondsBetween:
    return SecondsBetween("started_at", "completed_at")


def percentiles(queryset: QuerySet, expression: Expression, fractions: Sequence[float]) -> dict[float, float | None]:
    """Continuous percentiles (as ``percentile_cont``) of ``expression`` over ``queryset``.

    PostgreSQL: one aggregate query. Elsewhere (SQLite): a count, then the
    one or two neighbouring values of each rank read with ORDER BY/OFFSET
    and interpolated, so rows never come to Python in bulk.
    """
    if connection.vendor == "postgresql":
        result = queryset.aggregate(**{f"p{i}": PercentileCont(expression, f) for i, f in enumerate(fractions)})
        return {f: result[f"p{i}"] for i, f in enumerate(fractions)}
    return percentiles_by_offset(queryset, expression, fractions)


def percentiles_by_offset(
    queryset: QuerySet, expression: Expression, fractions: Sequence[float]
) -> dict[float, float | None]:
    """The portable way: a count, then per fraction the one or two values around its rank (ORDER BY, OFFSET)."""
    annotated = queryset.annotate(pvalue=expression).filter(pvalue__isnull=False)
    total = annotated.count()
    out: dict[float, float | None] = {}
    for fraction in fractions:
        if total == 0:
            out[fraction] = None
            continue
        rank = fraction * (total - 1)
        low = math.floor(rank)
        values = list(annotated.order_by("pvalue").values_list("pvalue", flat=True)[low : low + 2])
        upper = values[1] if len(values) > 1 else values[0]
        out[fraction] = values[0] + (upper - values[0]) * (rank - low)
    return out


# --- run statistics -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Hour:
    start: datetime
    completed: int = 0
    failed: int = 0
    other: int = 0  # cancelled, or not over yet
    p50_seconds: float | None = None
    p95_seconds: float | None = None

    @property
    def runs(self) -> int:
        return self.completed + self.failed + self.other


def hourly_runs(*, hours: int = 24, now: datetime | None = None) -> list[Hour]:
    """Top-level runs per hour (by creation) over the last ``hours`` by status, and the p50/p95
    duration of the runs that finished in each hour: one grouped query each on PostgreSQL."""
    now = now or timezone.now()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=hours - 1)
    top = Execution.objects.filter(parent__isnull=True)
    counts: dict[datetime, dict[str, int]] = {}
    rows = (
        top.filter(created_at__gte=first)
        .annotate(hour=TruncHour("created_at"))
        .values("hour")
        .annotate(
            completed=Count("pk", filter=Q(status=Execution.Status.COMPLETED)),
            failed=Count("pk", filter=Q(status__in=FAILED)),
            total=Count("pk"),
        )
    )
    for row in rows:
        counts[row["hour"]] = row
    finished = top.filter(completed_at__gte=first, started_at__isnull=False)
    durations: dict[datetime, tuple[float | None, float | None]] = {}
    if connection.vendor == "postgresql":
        grouped = (
            finished.annotate(hour=TruncHour("completed_at"))
            .values("hour")
            .annotate(p50=PercentileCont(run_seconds(), 0.5), p95=PercentileCont(run_seconds(), 0.95))
        )
        durations = {row["hour"]: (row["p50"], row["p95"]) for row in grouped}
    out = []
    for index in range(hours):
        start = first + timedelta(hours=index)
        row = counts.get(start, {})
        if connection.vendor == "postgresql":
            p50, p95 = durations.get(start, (None, None))
        else:  # one hour at a time, a few indexed queries each (embedded mode's SQLite)
            p = percentiles_by_offset(
                finished.filter(completed_at__gte=start, completed_at__lt=start + timedelta(hours=1)),
                run_seconds(),
                (0.5, 0.95),
            )
            p50, p95 = p[0.5], p[0.95]
        completed, failed = row.get("completed", 0), row.get("failed", 0)
        out.append(
            Hour(
                start=start,
                completed=completed,
                failed=failed,
                other=row.get("total", 0) - completed - failed,
                p50_seconds=p50,
                p95_seconds=p95,
            )
        )
    return out


@dataclass
class RunStats:
    since: datetime
    runs: int = 0
    completed: int = 0
    failed: int = 0
    cancelled: int = 0
    failure_rate: float | None = None
    p50_seconds: float | None = None
    p95_seconds: float | None = None
    queued: int = 0
    running: int = 0
    waiting: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def run_stats(*, since: datetime | None = None, owner: Any = None) -> RunStats:
    """Top-level runs created since ``since`` (default: 24 h ago), their failure rate and
    duration percentiles (of those that finished in the window), and what is active now."""
    since = since or timezone.now() - timedelta(hours=24)
    top = Execution.objects.filter(parent__isnull=True)
    if owner is not None:
        top = top.filter(owner=owner)
    window = top.filter(created_at__gte=since).aggregate(
        runs=Count("pk"),
        completed=Count("pk", filter=Q(status=Execution.Status.COMPLETED)),
        failed=Count("pk", filter=Q(status__in=FAILED)),
        cancelled=Count("pk", filter=Q(status=Execution.Status.CANCELLED)),
    )
    active = top.filter(status__in=Execution.ACTIVE).aggregate(
        queued=Count("pk", filter=Q(status=Execution.Status.QUEUED)),
        running=Count("pk", filter=Q(status=Execution.Status.RUNNING)),
        waiting=Count("pk", filter=Q(status=Execution.Status.WAITING)),
    )
    ended = window["completed"] + window["failed"]
    finished = top.filter(completed_at__gte=since, started_at__isnull=False)
    p = percentiles(finished, run_seconds(), (0.5, 0.95))
    return RunStats(
        since=since,
        **window,
        **active,
        failure_rate=round(window["failed"] / ended, 4) if ended else None,
        p50_seconds=_round(p[0.5]),
        p95_seconds=_round(p[0.95]),
    )


def _round(value: float | None) -> float | None:
    return round(value, 3) if value is not None else None


def executions_by_status() -> dict[str, int]:
    """Every run (children too) counted by status, in one GROUP BY; statuses without runs are 0."""
    counts = dict(Execution.objects.order_by().values_list("status").annotate(n=Count("pk")))
    return {status: counts.get(status, 0) for status in Execution.Status.values}


@dataclass
class StuckStep:
    step_id: int
    execution_id: Any
    node_id: str
    status: str
    reason: str
    since: datetime
    age_seconds: float


def oldest_stuck_step(*, now: datetime | None = None) -> StuckStep | None:
    """The step most overdue: running with an expired lease (its worker died), else the one
    queued longest beyond ``FLOWBUILDER_STUCK_STEP_SECONDS``. The recovery sweep should be
    fixing both; one shown here says the sweep (beat) or the workers are not keeping up."""
    now = now or timezone.now()
    lapsed = (
        StepRun.objects.filter(status=StepRun.Status.RUNNING, lease_expires_at__lt=now)
        .order_by("lease_expires_at")
        .values("pk", "execution_id", "node_id", "status", "lease_expires_at")
        .first()
    )
    if lapsed is not None:
        since = lapsed["lease_expires_at"]
        reason = "running with an expired lease"
    else:
        threshold = now - timedelta(seconds=settings.FLOWBUILDER_STUCK_STEP_SECONDS)
        lapsed = (
            StepRun.objects.filter(status=StepRun.Status.PENDING, queued_at__lt=threshold)
            .order_by("queued_at")
            .values("pk", "execution_id", "node_id", "status", "queued_at")
            .first()
        )
        if lapsed is None:
            return None
        since = lapsed["queued_at"]
        reason = "queued and not picked up"
    return StuckStep(
        step_id=lapsed["pk"],
        execution_id=lapsed["execution_id"],
        node_id=lapsed["node_id"],
        status=lapsed["status"],
        reason=reason,
        since=since,
        age_seconds=round((now - since).total_seconds(), 1),
    )


# --- queues and workers ----------------------------------------------------------------------------


@dataclass
class QueueDepth:
    available: bool
    queues: dict[str, int] = field(default_factory=dict)
    error: str | None = None

    @property
    def total(self) -> int | None:
        return sum(self.queues.values()) if self.available else None


def queue_names() -> list[str]:
    return list(dict.fromkeys([settings.CELERY_TASK_DEFAULT_QUEUE, settings.FLOWBUILDER_STEPS_QUEUE]))


def queue_depth() -> QueueDepth:
    """Messages waiting in the Celery queues (Redis ``LLEN`` of each priority list); n/a for other brokers."""
    url = settings.CELERY_BROKER_URL
    if not url.startswith(("redis://", "rediss://", "unix://")):
        return QueueDepth(available=False, error="only measured on a Redis broker")
    import redis
    from kombu.transport.redis import PRIORITY_STEPS, Channel

    try:
        client = redis.Redis.from_url(url, socket_timeout=1, socket_connect_timeout=1)
        with client.pipeline() as pipe:
            names = queue_names()
            for name in names:
                for priority in PRIORITY_STEPS:
                    pipe.llen(f"{name}{Channel.sep}{priority}" if priority else name)
            sizes = pipe.execute()
        steps = len(PRIORITY_STEPS)
        return QueueDepth(
            available=True, queues={name: sum(sizes[i * steps : (i + 1) * steps]) for i, name in enumerate(names)}
        )
    except Exception as exc:  # reported, never raised: monitoring must not fail with what it monitors
        return QueueDepth(available=False, error=f"{type(exc).__name__}: {exc}")


def workers_seen(*, refresh: bool = False) -> list[str] | None:
    """Names of the Celery workers answering a ping (``FLOWBUILDER_WORKER_PING_TIMEOUT``), cached
    ``FLOWBUILDER_WORKER_PING_CACHE_SECONDS``; None when the broker cannot be asked.

    The embedded worker (in-memory broker) is this process's own, reported by its state.
    """
    if settings.CELERY_BROKER_URL.startswith("memory://"):
        from flowbuilder import embedded

        return [f"embedded@{embedded.socket.gethostname()}"] if embedded._started else []
    if not refresh:
        cached = cache.get(WORKERS_CACHE_KEY)
        if cached is not None:
            return cached
    from flowbuilder.celery import app

    try:
        with app.connection_for_write(connect_timeout=2) as conn:
            replies = app.control.inspect(timeout=settings.FLOWBUILDER_WORKER_PING_TIMEOUT, connection=conn).ping()
    except Exception as exc:
        logger.warning("Celery inspect ping failed: %s", exc)
        return None
    names = sorted(replies or {})
    cache.set(WORKERS_CACHE_KEY, names, settings.FLOWBUILDER_WORKER_PING_CACHE_SECONDS)
    return names
