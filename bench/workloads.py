"""The workloads: workflows, one measured run of each kind, and their results (medians over runs).

Imported only after ``django.setup()`` (see :mod:`bench.engine`). Times come from the rows
(``Execution.created_at``/``completed_at``, ``StepRun.started_at``/``completed_at``) or, for the
raw Celery baselines, from timestamps the tasks record; "wall" times are what the bench sees by
polling. Worker and bench run on the same machine, so their clocks agree.
"""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Any

from celery import chain
from django.db import connection, transaction
from django.db.models import Max, Min, QuerySet

from accounts.models import User
from bench.tasks import PING_TABLE, raw_http_get, raw_ping, redis_client, timings_key
from executions.models import Execution, StepRun
from executions.services import execution_start
from workflows.models import Workflow
from workflows.services import workflow_create

POLL_SECONDS = 0.001  # how often the bench looks for a finished run (same for engine and baselines)
SETTLE_SECONDS = 0.05  # idle time between measured runs, so each one starts on an idle worker
RUN_TIMEOUT = 120.0
OWNER_EMAIL = "bench@flowbuilder.invalid"


# --- statistics -----------------------------------------------------------------------------


def ms(seconds: float) -> float:
    return seconds * 1000


def between(start: datetime, end: datetime) -> float:
    return ms((end - start).total_seconds())


def percentile(values: list[float], pct: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[pct - 1]


def median(values: list[float]) -> float:
    return statistics.median(values)


# --- results --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChainSample:
    """One run of a chain of dispatched steps."""

    total_ms: float  # created (raw: submitted) to last step done
    wall_ms: float  # submitted to seen done by polling
    transitions_ms: list[float]  # next step's start - previous step's end
    steps_ms: list[float]  # each step's end - its start


@dataclass(frozen=True)
class ChainResult:
    """Medians over repetitions of a chain's total, wall time and per-step transition p50/p95."""

    total_ms: float
    wall_ms: float
    transition_p50_ms: float
    transition_p95_ms: float
    step_p50_ms: float
    repetitions: int

    @classmethod
    def of(cls, samples: list[ChainSample]) -> ChainResult:
        return cls(
            total_ms=median([s.total_ms for s in samples]),
            wall_ms=median([s.wall_ms for s in samples]),
            transition_p50_ms=median([percentile(s.transitions_ms, 50) for s in samples]),
            transition_p95_ms=median([percentile(s.transitions_ms, 95) for s in samples]),
            step_p50_ms=median([percentile(s.steps_ms, 50) for s in samples]),
            repetitions=len(samples),
        )


@dataclass(frozen=True)
class RunSample:
    """One run measured end to end: from the rows (or the raw task's timestamp) and by polling."""

    row_ms: float  # completed_at - created_at
    done_ms: float  # updated_at - created_at: the last write of the run's final transaction
    wall_ms: float  # submitted to seen finished


@dataclass(frozen=True)
class LatencyResult:
    """Median and p95 over sequential runs."""

    p50_ms: float
    p95_ms: float
    done_p50_ms: float
    done_p95_ms: float
    wall_p50_ms: float
    wall_p95_ms: float
    runs: int

    @classmethod
    def of(cls, samples: list[RunSample]) -> LatencyResult:
        rows = [s.row_ms for s in samples]
        done = [s.done_ms for s in samples]
        walls = [s.wall_ms for s in samples]
        return cls(
            p50_ms=median(rows),
            p95_ms=percentile(rows, 95),
            done_p50_ms=median(done),
            done_p95_ms=percentile(done, 95),
            wall_p50_ms=median(walls),
            wall_p95_ms=percentile(walls, 95),
            runs=len(samples),
        )


@dataclass(frozen=True)
class ThroughputResult:
    count: int
    seconds: float  # last completed_at - first created_at (one commit: last updated_at - commit)
    submit_seconds: float  # how long the bench took to create them
    workers: int
    one_commit: bool = False
    submitters: int = 1

    @property
    def per_second(self) -> float:
        return self.count / self.seconds


# --- workflows ------------------------------------------------------------------------------


def bench_owner() -> User:
    owner = User.objects.filter(email=OWNER_EMAIL).first()
    return owner or User.objects.create_user(OWNER_EMAIL, password=None)


def line_workflow(owner: User, name: str, nodes: list[dict[str, Any]]) -> Workflow:
    """trigger.manual → nodes, in a line."""
    nodes = [{"id": "trigger", "type": "trigger.manual", "config": {}}, *nodes]
    edges = [{"id": f"e{i}", "source": a["id"], "target": b["id"]} for i, (a, b) in enumerate(pairwise(nodes), 1)]
    return workflow_create(owner=owner, name=name, definition={"nodes": nodes, "edges": edges})


def transforms(count: int) -> list[dict[str, Any]]:
    """``count`` transforms, the first reading the input, each next one its predecessor's output."""
    ids = [f"t{i:02d}" for i in range(1, count + 1)]
    values = ["{{ input.n }}", *(f"{{{{ steps.{prev}.output }}}}" for prev in ids[:-1])]
    return [
        {"id": node_id, "type": "transform", "config": {"value": value}}
        for node_id, value in zip(ids, values, strict=True)
    ]


def http_gets(count: int, url: str) -> list[dict[str, Any]]:
    gets = [{"id": f"h{i:02d}", "type": "bench.http_get", "config": {"url": url}} for i in range(1, count + 1)]
    return [*gets, {"id": "done", "type": "output", "config": {}}]


# --- running executions ----------------------------------------------------------------------


def submit(workflow: Workflow, n: int) -> tuple[uuid.UUID, float]:
    """Start a run the way the API does (its own transaction: the start is queued on commit)."""
    submitted = time.time()
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data={"n": n}, actor=workflow.owner)
    return execution.pk, submitted


def poll(check: Callable[[], bool], *, interval: float = POLL_SECONDS, timeout: float = RUN_TIMEOUT) -> float:
    """Call ``check`` until it answers True; answers the time it did."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError(f"Nothing happened in {timeout:.0f}s: are the workers running?")
        time.sleep(interval)
    return time.time()


def wait_finished(execution_id: uuid.UUID) -> tuple[Execution, float]:
    """Poll until the run ends; answers it (it must have succeeded) and when it was seen done."""
    rows = Execution.objects.filter(pk=execution_id, status__in=Execution.FINISHED)
    seen = poll(rows.exists)
    execution = Execution.objects.get(pk=execution_id)
    if execution.status != Execution.Status.COMPLETED:
        raise RuntimeError(f"Run {execution_id} {execution.status}: {execution.error}")
    return execution, seen


def run_once(workflow: Workflow, n: int = 1) -> tuple[Execution, RunSample]:
    execution_id, submitted = submit(workflow, n)
    execution, seen = wait_finished(execution_id)
    sample = RunSample(
        row_ms=between(execution.created_at, execution.completed_at),
        done_ms=between(execution.created_at, execution.updated_at),
        wall_ms=ms(seen - submitted),
    )
    return execution, sample


def repeat(measure: Callable[[], Any], *, runs: int, warmup: int) -> list[Any]:
    """Warm-up runs (discarded), then ``runs`` measured ones with a pause before each."""
    for _ in range(warmup):
        measure()
    samples = []
    for _ in range(runs):
        time.sleep(SETTLE_SECONDS)
        samples.append(measure())
    return samples


# --- W40: 40 dispatched HTTP steps, and the raw Celery chain --------------------------------------


def engine_chain_sample(workflow: Workflow) -> ChainSample:
    execution, sample = run_once(workflow)
    steps = list(StepRun.objects.filter(execution=execution, node_type="bench.http_get").order_by("node_id"))
    return ChainSample(
        total_ms=sample.row_ms,
        wall_ms=sample.wall_ms,
        transitions_ms=[between(prev.completed_at, nxt.started_at) for prev, nxt in pairwise(steps)],
        steps_ms=[between(step.started_at, step.completed_at) for step in steps],
    )


def raw_chain_sample(url: str, steps: int) -> ChainSample:
    """A plain Celery chain of ``steps`` GETs; each hop records [index, started, ended] in a Redis list."""
    run_id = uuid.uuid4().hex
    key = timings_key(run_id)
    redis = redis_client()
    submitted = time.time()
    chain(raw_http_get.si(url, run_id, i) for i in range(steps)).apply_async()
    seen = poll(lambda: redis.llen(key) >= steps)
    hops = sorted(json.loads(entry) for entry in redis.lrange(key, 0, -1))
    redis.delete(key)
    return ChainSample(
        total_ms=ms(hops[-1][2] - submitted),
        wall_ms=ms(seen - submitted),
        transitions_ms=[ms(nxt[1] - prev[2]) for prev, nxt in pairwise(hops)],
        steps_ms=[ms(ended - started) for _, started, ended in hops],
    )


def measure_w40(owner: User, url: str, *, steps: int, runs: int, warmup: int) -> tuple[ChainResult, ChainResult]:
    """(engine, raw chain), alternating run by run so both see the same machine state."""
    workflow = line_workflow(owner, f"bench W{steps}", http_gets(steps, url))

    def pair() -> tuple[ChainSample, ChainSample]:
        time.sleep(SETTLE_SECONDS)
        engine = engine_chain_sample(workflow)
        time.sleep(SETTLE_SECONDS)
        return engine, raw_chain_sample(url, steps)

    samples = repeat(pair, runs=runs, warmup=warmup)
    return ChainResult.of([e for e, _ in samples]), ChainResult.of([r for _, r in samples])


# --- W40-inline and the three-step workflow -------------------------------------------------------


def measure_inline(owner: User, *, steps: int, runs: int, warmup: int) -> LatencyResult:
    workflow = line_workflow(owner, f"bench W{steps}-inline", transforms(steps))
    return LatencyResult.of(repeat(lambda: run_once(workflow)[1], runs=runs, warmup=warmup))


def three_step_workflow(owner: User) -> Workflow:
    return line_workflow(owner, "bench three steps", transforms(3))


def measure_latency(workflow: Workflow, *, runs: int, warmup: int) -> LatencyResult:
    return LatencyResult.of(repeat(lambda: run_once(workflow)[1], runs=runs, warmup=warmup))


def raw_roundtrip_sample() -> RunSample:
    """apply_async of one task that inserts a row; poll until the row is there."""
    token = uuid.uuid4().hex
    query = f"SELECT at FROM {PING_TABLE} WHERE token = %s"
    found: list[float] = []

    def inserted() -> bool:
        with connection.cursor() as cursor:
            cursor.execute(query, [token])
            row = cursor.fetchone()
        if row:
            found.append(row[0])
        return bool(row)

    submitted = time.time()
    raw_ping.apply_async((token,))
    seen = poll(inserted)
    row_ms = ms(found[0] - submitted)
    return RunSample(row_ms=row_ms, done_ms=row_ms, wall_ms=ms(seen - submitted))


def measure_raw_roundtrip(*, runs: int, warmup: int) -> LatencyResult:
    return LatencyResult.of(repeat(raw_roundtrip_sample, runs=runs, warmup=warmup))


# --- throughput ----------------------------------------------------------------------------------


def measure_throughput(workflow: Workflow, *, count: int, workers: int, submitters: int = 1) -> ThroughputResult:
    """Start ``count`` runs at once (each its own transaction), wait for all, read the span from the rows.

    ``submitters`` > 1 starts them from that many threads, as concurrent API clients would.
    """
    started = time.time()
    if submitters == 1:
        ids = [submit(workflow, n)[0] for n in range(count)]
    else:
        from concurrent.futures import ThreadPoolExecutor

        from django.db import connections

        def submit_closing(n: int) -> Any:
            try:
                return submit(workflow, n)[0]
            finally:
                connections.close_all()

        with ThreadPoolExecutor(max_workers=submitters) as pool:
            ids = list(pool.map(submit_closing, range(count)))
    submit_seconds = time.time() - started
    runs = wait_all(ids)
    span = runs.aggregate(first=Min("created_at"), last=Max("completed_at"))
    seconds = (span["last"] - span["first"]).total_seconds()
    return ThroughputResult(
        count=count, seconds=seconds, submit_seconds=submit_seconds, workers=workers, submitters=submitters
    )


def measure_capacity(workflow: Workflow, *, count: int, workers: int) -> ThroughputResult:
    """Diagnostic: ``count`` runs created in ONE transaction, so all are queued at its commit.

    Separates what the workers sustain from what one process can submit: the span is
    commit → last run's final write (updated_at).
    """
    started = time.time()
    with transaction.atomic():
        ids = [
            execution_start(workflow=workflow, input_data={"n": n}, actor=workflow.owner)[0].pk for n in range(count)
        ]
    committed = time.time()
    runs = wait_all(ids)
    last = runs.aggregate(last=Max("updated_at"))["last"]
    return ThroughputResult(
        count=count,
        seconds=last.timestamp() - committed,
        submit_seconds=committed - started,
        workers=workers,
        one_commit=True,
    )


def wait_all(ids: list[uuid.UUID]) -> QuerySet[Execution]:
    runs = Execution.objects.filter(pk__in=ids)
    poll(lambda: runs.filter(status__in=Execution.FINISHED).count() == len(ids), interval=0.02)
    failed = runs.exclude(status=Execution.Status.COMPLETED).count()
    if failed:
        raise RuntimeError(f"{failed} of {len(ids)} runs did not succeed")
    return runs
