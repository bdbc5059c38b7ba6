"""Prometheus metrics: request counters kept by a middleware, database figures computed at scrape.

``flowbuilder_http_requests_total`` and ``flowbuilder_http_request_duration_seconds``
are counted in each web process (label ``view`` is the URL pattern's name,
never the raw path, so series stay bounded). With several processes per
host set ``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode)
and every process's counts are summed at scrape.

The rest is read from the database and the broker when scraped (cached
``SCRAPE_CACHE_SECONDS`` in the shared cache, so replicas scraped together
compute it once): runs by status, step durations by node type (a cumulative
histogram over the steps kept; a purge shows as a counter reset), queue
depth, workers answering, the age of the oldest stuck step.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from django.core.cache import cache
from django.db.models import Count, Q, Sum
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import REGISTRY, Collector

from executions.models import StepRun
from monitoring import selectors

SCRAPE_CACHE_SECONDS = 10
STEP_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
HTTP_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}

REQUESTS = Counter(
    "flowbuilder_http_requests", "HTTP requests answered, by view and status", ["method", "view", "status"]
)
LATENCY = Histogram(
    "flowbuilder_http_request_duration_seconds",
    "Time to answer an HTTP request, by view",
    ["method", "view"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
)


def observe_request(method: str, view: str, status: int, seconds: float) -> None:
    method = method if method in HTTP_METHODS else "OTHER"
    REQUESTS.labels(method, view, str(status)).inc()
    LATENCY.labels(method, view).observe(seconds)


def request_totals() -> dict[str, Any]:
    """This process's request counts, in total and by status class (for the JSON metrics)."""
    by_class: dict[str, float] = {}
    for metric in REQUESTS.collect():
        for sample in metric.samples:
            if sample.name.endswith("_total"):
                klass = sample.labels["status"][:1] + "xx"
                by_class[klass] = by_class.get(klass, 0) + sample.value
    return {"total": int(sum(by_class.values())), "by_status_class": {k: int(v) for k, v in sorted(by_class.items())}}


def _step_histograms() -> list[dict[str, Any]]:
    """Per node type: cumulative bucket counts, sum and count of finished step durations (one query)."""
    seconds = selectors.SecondsBetween("started_at", "completed_at")
    buckets = {f"le_{i}": Count("pk", filter=Q(secs__lte=bound)) for i, bound in enumerate(STEP_BUCKETS)}
    rows = (
        StepRun.objects.filter(completed_at__isnull=False, started_at__isnull=False)
        .annotate(secs=seconds)
        .order_by()
        .values("node_type")
        .annotate(count=Count("pk"), total=Sum("secs"), **buckets)
    )
    return list(rows)


def database_figures() -> dict[str, Any]:
    """What the database collector reports, cached briefly in the shared cache."""
    cached = cache.get("monitoring:prometheus")
    if cached is not None:
        return cached
    stuck = selectors.oldest_stuck_step()
    depth = selectors.queue_depth()
    workers = selectors.workers_seen()
    figures = {
        "executions": selectors.executions_by_status(),
        "steps": _step_histograms(),
        "queues": depth.queues if depth.available else None,
        "workers": len(workers) if workers is not None else None,
        "stuck_age": stuck.age_seconds if stuck else 0.0,
    }
    cache.set("monitoring:prometheus", figures, SCRAPE_CACHE_SECONDS)
    return figures


class DatabaseCollector(Collector):
    def collect(self) -> Iterator[Metric]:
        figures = database_figures()
        runs = GaugeMetricFamily("flowbuilder_executions", "Runs (children included) by status", labels=["status"])
        for status, count in figures["executions"].items():
            runs.add_metric([status], count)
        yield runs

        steps = HistogramMetricFamily(
            "flowbuilder_step_duration_seconds", "Duration of finished steps, by node type", labels=["node_type"]
        )
        for row in figures["steps"]:
            buckets = [(repr(float(b)), row[f"le_{i}"]) for i, b in enumerate(STEP_BUCKETS)]
            buckets.append(("+Inf", row["count"]))
            steps.add_metric([row["node_type"]], buckets, sum_value=row["total"] or 0.0)
        yield steps

        if figures["queues"] is not None:
            queues = GaugeMetricFamily(
                "flowbuilder_queue_depth", "Messages waiting in a Celery queue", labels=["queue"]
            )
            for name, depth in figures["queues"].items():
                queues.add_metric([name], depth)
            yield queues
        if figures["workers"] is not None:
            yield GaugeMetricFamily("flowbuilder_workers", "Celery workers answering a ping", value=figures["workers"])
        yield GaugeMetricFamily(
            "flowbuilder_oldest_stuck_step_age_seconds",
            "How long the most overdue step has been stuck (0: none)",
            value=figures["stuck_age"],
        )


def render() -> bytes:
    """The exposition text: this process's (or, in multiprocess mode, every process's) counters and the database figures."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
        process_part = generate_latest(registry)
    else:
        process_part = generate_latest(REGISTRY)
    database = CollectorRegistry()
    database.register(DatabaseCollector())
    return process_part + generate_latest(database)
