"""``python -m bench load``: mixed API traffic on the production shape, and a burst.

The shape: uvicorn with 2 worker processes, 2 Celery worker processes, PostgreSQL and Redis
(what ``docker-compose.yml`` runs). The client is a small asyncio program on httpx rather than
locust: it is already a dependency, one process drives a few hundred requests in flight on
this 2-core machine, and its arrivals are open-loop (each request has a scheduled start, and
its latency counts from that start), so a slow server cannot slow the offered load down and
hide its own latency (coordinated omission).

Phases:

* **fixed**: a mix of reads and writes at 40 requests/s for 60 s (``--quick``: 10 s): lists, reads of a run, executes, webhook calls, and a plain Django view
  (one query, a ``JsonResponse``, same server and middleware) as the baseline ratio;
* **ramp**: the same mix from 10/s up to 200/s over the same time: where
  latency and errors start;
* **burst**: 64 clients submitting 600 executes as fast as they can while 8 more read lists.
  Only 2xx/429/503 may come back, and every accepted run must complete with its output.

Reported: p50/p95/p99 per endpoint, answers by status, runs/s accepted and completed, and the
most PostgreSQL connections seen (sampled every 250 ms) against the documented budget.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import threading
import time
import uuid
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import cycle
from typing import Any

import httpx

from bench import infra

WEB_PROCESSES = 2
WORKERS = 2
MAX_IN_FLIGHT = 512
# The plain view's settings: flowbuilder.settings plus one URL (bench/load_site.py).
SETTINGS_MODULE = "bench.load_site"
# Endpoint mix of the fixed and ramp phases: (name, weight).
MIX = (("list", 3), ("read", 2), ("execute", 2), ("webhook", 1), ("plain", 2))


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(pct / 100 * (len(ordered) - 1)))]


@dataclass
class Tally:
    latencies: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    statuses: dict[str, Counter[str]] = field(default_factory=lambda: defaultdict(Counter))
    accepted: list[tuple[str, int]] = field(default_factory=list)  # (execution id, n)
    windows: dict[int, list[tuple[float, str]]] = field(default_factory=lambda: defaultdict(list))
    lags: list[float] = field(default_factory=list)  # how late the client sent each request (its own lag)
    began: float = field(default_factory=time.perf_counter)

    def record(self, name: str, started: float, status: str) -> None:
        finished = time.perf_counter()
        elapsed = finished - started
        self.latencies[name].append(elapsed)
        self.statuses[name][status] += 1
        self.windows[int((finished - self.began) // 10)].append((elapsed, status))  # by when it was answered

    def errors(self) -> Counter[str]:
        total: Counter[str] = Counter()
        for counts in self.statuses.values():
            total.update({status: n for status, n in counts.items() if not status.startswith("2")})
        return total


@dataclass
class Target:
    base: str
    api_key: str
    workflow_id: str
    webhook_token: str
    run_ids: list[str]

    @property
    def headers(self) -> dict[str, str]:
        return {"X-API-Key": self.api_key}


class ConnectionSampler:
    """The most connections PostgreSQL had open to the bench database, sampled every 250 ms."""

    def __init__(self) -> None:
        self.most = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        url = os.environ["DATABASE_URL"].replace("postgres://", "postgresql://", 1)
        with psycopg.connect(url, autocommit=True) as connection:
            while not self._stop.wait(0.25):
                (count,) = connection.execute(
                    "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
                ).fetchone()
                self.most = max(self.most, count)

    def __enter__(self) -> ConnectionSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)


# --- requests --------------------------------------------------------------------------------


async def call(
    client: httpx.AsyncClient,
    target: Target,
    name: str,
    n: int,
    tally: Tally,
    started: float,
) -> None:
    try:
        if name == "list":
            response = await client.get("/api/v1/workflows", headers=target.headers)
        elif name == "read":
            run_id = target.run_ids[n % len(target.run_ids)]
            response = await client.get(f"/api/v1/executions/{run_id}", headers=target.headers)
        elif name == "execute":
            response = await client.post(
                f"/api/v1/workflows/{target.workflow_id}/execute",
                json={"input_data": {"n": n}},
                headers={**target.headers, "Idempotency-Key": f"load-{uuid.uuid4().hex}"},
            )
            if response.status_code in (200, 202):
                tally.accepted.append((response.json()["execution_id"], n))
        elif name == "webhook":
            response = await client.post(f"/hooks/{target.webhook_token}", json={"n": n})
        else:
            response = await client.get("/bench/plain/", headers=target.headers)
        status = str(response.status_code)
    except httpx.HTTPError as exc:
        status = type(exc).__name__
    tally.record(name, started, status)


def schedule(rate_at: Any, seconds: float) -> Iterator[float]:
    """Start offsets of an open-loop arrival process whose rate at time t is ``rate_at(t)``."""
    t = 0.0
    while t < seconds:
        yield t
        t += 1.0 / rate_at(t)


async def open_loop(target: Target, rate_at: Any, seconds: float) -> Tally:
    tally = Tally()
    names = cycle([name for name, weight in MIX for _ in range(weight)])
    limits = httpx.Limits(max_connections=MAX_IN_FLIGHT, max_keepalive_connections=MAX_IN_FLIGHT, keepalive_expiry=4)
    async with httpx.AsyncClient(base_url=target.base, timeout=120, limits=limits) as client:
        loop = asyncio.get_running_loop()
        begin = loop.time()
        tally.began = time.perf_counter()
        tasks = []
        for n, offset in enumerate(schedule(rate_at, seconds)):
            delay = begin + offset - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            lag = max(0.0, loop.time() - (begin + offset))
            tally.lags.append(lag)
            started = time.perf_counter() - lag  # latency counts from the scheduled start
            tasks.append(asyncio.create_task(call(client, target, next(names), n, tally, started)))
        await asyncio.gather(*tasks)
    return tally


async def burst(target: Target, *, clients: int = 64, executes: int = 600, readers: int = 8) -> Tally:
    tally = Tally()
    numbers = iter(range(executes))
    done = asyncio.Event()
    limits = httpx.Limits(
        max_connections=clients + readers, max_keepalive_connections=clients + readers, keepalive_expiry=4
    )  # under uvicorn's 5 s keep-alive: the client never reuses a connection the server is closing
    async with httpx.AsyncClient(base_url=target.base, timeout=60, limits=limits) as client:

        async def submitter() -> None:
            for n in numbers:
                await call(client, target, "execute", n, tally, time.perf_counter())

        async def reader() -> None:
            n = 0
            while not done.is_set():
                await call(client, target, "list" if n % 2 else "read", n, tally, time.perf_counter())
                n += 1

        reading = [asyncio.create_task(reader()) for _ in range(readers)]
        await asyncio.gather(*(submitter() for _ in range(clients)))
        done.set()
        await asyncio.gather(*reading)
    return tally


# --- set-up ----------------------------------------------------------------------------------


def prepare() -> tuple[Target, list[infra.Worker], infra.AsgiServer, Any]:
    os.environ.setdefault("FLOWBUILDER_HTTP_ALLOWLIST", "127.0.0.1")
    os.environ["RATE_LIMIT_ENABLED"] = "false"  # the server's capacity, not the limiter's, is measured
    infra.configure_environment()
    infra.ensure_database(os.environ["DATABASE_URL"])
    infra.setup_django()
    infra.purge_queues()
    from django.contrib.auth.models import Group

    from accounts.roles import DEFAULT_ROLE
    from accounts.services import api_key_create
    from bench.workloads import bench_owner
    from executions.models import Execution
    from workflows.services import workflow_create

    http = infra.start_http_server()
    owner = bench_owner()
    owner.groups.add(Group.objects.get(name=DEFAULT_ROLE))
    Execution.objects.filter(owner=owner).delete()
    _, api_key = api_key_create(user=owner, granted=owner.api_permissions, name=f"load {uuid.uuid4().hex[:6]}")
    workflow = workflow_create(
        owner=owner,
        name="load: fetch and double",
        definition={
            "nodes": [
                {"id": "start", "type": "trigger.manual", "config": {}},
                {"id": "fetch", "type": "http_request", "config": {"method": "GET", "url": infra.server_url(http)}},
                {"id": "out", "type": "output", "config": {"value": {"double": "{{ input.n * 2 }}"}}},
            ],
            "edges": [{"source": "start", "target": "fetch"}, {"source": "fetch", "target": "out"}],
        },
    )
    hook = workflow_create(
        owner=owner,
        name="load: webhook",
        definition={
            "nodes": [
                {"id": "hook", "type": "trigger.webhook", "config": {"method": "POST"}},
                {"id": "out", "type": "output", "config": {"value": "{{ input.body.n }}"}},
            ],
            "edges": [{"source": "hook", "target": "out"}],
        },
    )
    for index in range(18):  # a list page of 20
        workflow_create(owner=owner, name=f"load: filler {index}", definition=workflow.definition)
    os.environ["DJANGO_SETTINGS_MODULE"] = SETTINGS_MODULE
    server = infra.start_asgi_server(processes=WEB_PROCESSES)
    workers = [infra.start_worker(index) for index in range(WORKERS)]
    target = Target(server.base_url, api_key, str(workflow.pk), hook.webhook_token, [])
    return target, workers, server, http


def seed_runs(target: Target, count: int = 20) -> None:
    with httpx.Client(base_url=target.base, timeout=30, headers=target.headers) as client:
        for n in range(count):
            response = client.post(f"/api/v1/workflows/{target.workflow_id}/execute", json={"input_data": {"n": n}})
            response.raise_for_status()
            target.run_ids.append(response.json()["execution_id"])


def completion(accepted: list[tuple[str, int]], since: float, timeout: float = 300) -> tuple[int, int, float]:
    """Wait for the accepted runs: (completed with the right output, not, seconds from ``since`` to the last)."""
    from executions.models import Execution

    ids = [run_id for run_id, _ in accepted]
    expected = dict(accepted)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not Execution.objects.filter(pk__in=ids, status__in=Execution.ACTIVE).exists():
            break
        time.sleep(0.5)
    right = wrong = 0
    last = None
    for run_id, status, output, ended in Execution.objects.filter(pk__in=ids).values_list(
        "pk", "status", "output_data", "completed_at"
    ):
        ok = status == "completed" and output == {"double": expected[str(run_id)] * 2}
        right, wrong = right + ok, wrong + (not ok)
        last = max(last, ended) if last and ended else (ended or last)
    missing = len(ids) - right - wrong
    seconds = (last.timestamp() - since) if last else float("nan")
    return right, wrong + missing, seconds


# --- report ----------------------------------------------------------------------------------


def print_tally(title: str, tally: Tally, seconds: float) -> None:
    print(f"\n{title}")
    print(f"  {'endpoint':<10} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  answers")
    for name, values in sorted(tally.latencies.items()):
        answers = ", ".join(f"{status}: {n}" for status, n in sorted(tally.statuses[name].items()))
        print(
            f"  {name:<10} {len(values):>6} {percentile(values, 50) * 1000:>8.1f} "
            f"{percentile(values, 95) * 1000:>8.1f} {percentile(values, 99) * 1000:>8.1f}  {answers}"
        )
    total = sum(len(values) for values in tally.latencies.values())
    print(f"  {total} requests in {seconds:.1f} s ({total / seconds:.1f}/s); not 2xx: {dict(tally.errors()) or 'none'}")
    if tally.lags:
        print(
            f"  the client's own lag behind its schedule: p50 {percentile(tally.lags, 50) * 1000:.1f} ms, p99 {percentile(tally.lags, 99) * 1000:.1f} ms"
        )
    if "list" in tally.latencies and "plain" in tally.latencies:
        ratio = statistics.median(tally.latencies["list"]) / statistics.median(tally.latencies["plain"])
        print(f"  GET /workflows p50 ÷ plain Django view p50: {ratio:.2f}")


def print_windows(tally: Tally, rate_at: Any, seconds: float) -> None:
    print(f"  {'answered':<9} {'offered/s':>9} {'2xx/s':>7} {'p50 ms':>8} {'p99 ms':>8}  not 2xx")
    for window in sorted(tally.windows):
        samples = tally.windows[window]
        good = [elapsed for elapsed, status in samples if status.startswith("2")]
        bad = Counter(status for _, status in samples if not status.startswith("2"))
        print(
            f"  {window * 10:>3}-{window * 10 + 10:<3} s {(rate_at(window * 10 + 5) if window * 10 + 5 < seconds else 0):>9.0f} {len(good) / 10:>7.1f} "
            f"{percentile([e for e, _ in samples], 50) * 1000:>8.1f} {percentile([e for e, _ in samples], 99) * 1000:>8.1f}  "
            f"{dict(bad) or ''}"
        )


def budget() -> int:
    """The documented connection budget of this shape (README, *Database connections*)."""
    pool = int(os.environ.get("FLOWBUILDER_DB_POOL_MAX_SIZE", "10"))
    return WEB_PROCESSES * pool + WORKERS * 1 * 2 + WORKERS


def main(*, quick: bool = False, rate: float = 40, ramp_to: float = 200, seconds: float = 60) -> int:
    if quick:
        seconds = 10
    print(
        f"Load: {os.uname().nodename}, load average {os.getloadavg()[0]:.2f}; uvicorn x {WEB_PROCESSES}, celery x {WORKERS}"
    )
    target, workers, server, http = prepare()
    try:
        seed_runs(target)
        with ConnectionSampler() as connections:
            began = time.time()
            fixed = asyncio.run(open_loop(target, lambda t: rate, seconds))
            print_tally(f"fixed: {rate:.0f}/s for {seconds:.0f} s", fixed, time.time() - began)
            right, wrong, last = completion(fixed.accepted, began)
            print(
                f"  runs accepted {len(fixed.accepted)}, completed right {right}, not {wrong}; all done {last:.1f} s after the start"
            )

            def ramp(t: float) -> float:
                return 10 + (ramp_to - 10) * t / seconds

            began = time.time()
            ramped = asyncio.run(open_loop(target, ramp, seconds))
            print_tally(f"ramp: 10/s → {ramp_to:.0f}/s over {seconds:.0f} s", ramped, time.time() - began)
            print_windows(ramped, ramp, seconds)
            right, wrong, last = completion(ramped.accepted, began)
            print(
                f"  runs accepted {len(ramped.accepted)}, completed right {right}, not {wrong}; all done {last:.1f} s after the start"
            )

            began = time.time()
            burst_tally = asyncio.run(burst(target, executes=150 if quick else 600))
            elapsed = time.time() - began
            executes = len(burst_tally.latencies["execute"])
            print_tally(f"burst: 64 clients x {executes} executes + 8 readers", burst_tally, elapsed)
            right, wrong, last = completion(burst_tally.accepted, began)
            unexpected = {s: n for s, n in burst_tally.errors().items() if s not in ("429", "503")}
            print(
                f"  runs accepted {len(burst_tally.accepted)} ({len(burst_tally.accepted) / elapsed:.1f}/s), "
                f"completed right {right}, not {wrong}; completed {right / last:.1f} runs/s; "
                f"answers other than 2xx/429/503: {unexpected or 'none'}"
            )
        print(f"\nPostgreSQL connections: at most {connections.most} open (budget {budget()} for this shape)")
        return 0 if not unexpected and wrong == 0 else 1
    finally:
        for worker in workers:
            infra.stop_worker(worker)
        infra.stop_asgi_server(server)
        http.shutdown()
