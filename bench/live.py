"""The live-updates benchmark: from a committed state change to a websocket client reading it.

``python -m bench live [--quick]``. Starts uvicorn (channels-redis) and two Celery worker
processes on the bench database and Redis, connects 1 and then 100 websocket clients to
``ws/workflows/{id}/`` of one workflow, and runs a chain of dispatched steps (``bench.sleep``).
For every message each client reads, the latency is the client's clock when the frame arrived
minus the message's ``timestamp``, which the publisher stamps in the on-commit callback, right
after the transaction that made the change committed (one machine: one clock). Baseline in the
same run: a bare channels-redis ``group_send`` -> ``receive`` round trip, with 1 and with 100
receiving channels in one process.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import threading
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench import infra

STEPS = 10  # dispatched steps per run
STEP_SECONDS = 0.02
SETTLE_SECONDS = 0.1
TARGET_P99_MS = 20.0
END_TYPES = ("execution_completed", "execution_failed")


@dataclass(frozen=True)
class Plan:
    runs: int
    warmup: int
    roundtrips: int

    @classmethod
    def for_mode(cls, *, quick: bool) -> Plan:
        return cls(runs=5, warmup=1, roundtrips=50) if quick else cls(runs=30, warmup=2, roundtrips=300)


@dataclass(frozen=True)
class Latency:
    samples: list[float]  # milliseconds

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p99(self) -> float:
        return statistics.quantiles(self.samples, n=100, method="inclusive")[98]

    @property
    def max(self) -> float:
        return max(self.samples)


# --- websocket clients ---------------------------------------------------------------------------


class Clients:
    """``count`` websocket clients of one workflow socket, on an event loop in a background thread."""

    def __init__(self, url: str, count: int) -> None:
        self.count = count
        self.latencies: list[float] = []
        self.recording = False
        self.ends: dict[str, int] = defaultdict(int)
        self.condition = threading.Condition()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, name="bench-ws-clients", daemon=True)
        self.thread.start()
        self._call(self._connect_all(url), timeout=120)

    def _call(self, coroutine: Any, timeout: float) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)

    async def _connect_all(self, url: str) -> None:
        from websockets.asyncio.client import connect

        self.sockets = []
        for _ in range(self.count):
            ws = await connect(url, open_timeout=30, max_size=None)
            first = json.loads(await ws.recv())
            if first.get("type") != "active_executions":
                raise RuntimeError(f"Unexpected first message: {first}")
            self.sockets.append(ws)
        self.readers = [asyncio.ensure_future(self._read(ws)) for ws in self.sockets]

    async def _read(self, ws: Any) -> None:
        async for raw in ws:
            received = time.time()
            message = json.loads(raw)
            if message["type"] == "ping":
                continue
            if self.recording:
                sent = datetime.fromisoformat(message["timestamp"]).timestamp()
                self.latencies.append((received - sent) * 1000)
            if message["type"] in END_TYPES:
                with self.condition:
                    self.ends[message["execution_id"]] += 1
                    self.condition.notify_all()

    def wait_for_end(self, execution_id: str, timeout: float = 60.0) -> None:
        with self.condition:
            if not self.condition.wait_for(lambda: self.ends[execution_id] >= self.count, timeout):
                raise RuntimeError(f"Run {execution_id} did not reach all {self.count} clients in {timeout:.0f}s")

    def close(self) -> None:
        async def close_all() -> None:
            for reader in self.readers:
                reader.cancel()
            await asyncio.gather(*(ws.close() for ws in self.sockets), return_exceptions=True)

        self._call(close_all(), timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)


def measure_clients(server: infra.AsgiServer, workflow: Any, token: str, *, clients: int, plan: Plan) -> Latency:
    from django.db import transaction

    from executions.services import execution_start

    sockets = Clients(f"{server.ws_url}/ws/workflows/{workflow.pk}/?token={token}", clients)
    try:
        for index in range(plan.warmup + plan.runs):
            sockets.recording = index >= plan.warmup
            with transaction.atomic():
                execution, _ = execution_start(workflow=workflow, input_data={})
            sockets.wait_for_end(str(execution.pk))
            time.sleep(SETTLE_SECONDS)
    finally:
        sockets.recording = False
        sockets.close()
    return Latency(sockets.latencies)


# --- the baseline --------------------------------------------------------------------------------


def measure_group_send(*, receivers: int, samples: int, warmup: int = 10) -> Latency:
    """Bare channels-redis: group_send to a group of ``receivers`` channels of this process, until each has it."""
    from channels.layers import get_channel_layer

    async def scenario() -> list[float]:
        layer = get_channel_layer()
        group = f"bench-live-{os.getpid()}"
        channels = [await layer.new_channel() for _ in range(receivers)]
        for channel in channels:
            await layer.group_add(group, channel)
        latencies: list[float] = []

        async def receive(channel: str) -> float:
            await layer.receive(channel)
            return time.time()

        try:
            for index in range(warmup + samples):
                waiting = [asyncio.ensure_future(receive(channel)) for channel in channels]
                await asyncio.sleep(0.005)  # the receivers are parked, as a consumer's would be
                sent = time.time()
                await layer.group_send(group, {"type": "bench.ping", "sent": sent})
                arrived = await asyncio.gather(*waiting)
                if index >= warmup:
                    latencies.extend((t - sent) * 1000 for t in arrived)
        finally:
            for channel in channels:
                await layer.group_discard(group, channel)
        return latencies

    return Latency(asyncio.run(scenario()))


# --- the run -------------------------------------------------------------------------------------


def main(*, quick: bool = False) -> int:
    plan = Plan.for_mode(quick=quick)
    infra.configure_environment()
    infra.ensure_database(os.environ["DATABASE_URL"])
    infra.setup_django()
    from django.contrib.auth.models import Group

    from accounts.roles import DEFAULT_ROLE
    from accounts.services import token_pair_issue
    from bench import report, workloads

    infra.purge_queues()
    print(_machine())
    owner = workloads.bench_owner()
    owner.groups.add(Group.objects.get(name=DEFAULT_ROLE))  # execution:read, to follow its runs
    token = token_pair_issue(user=owner).access_token
    nodes = [{"id": f"s{i:02d}", "type": "bench.sleep", "config": {"seconds": STEP_SECONDS}} for i in range(STEPS)]
    workflow = workloads.line_workflow(owner, f"live bench {time.time():.0f}", nodes)

    baseline_1 = measure_group_send(receivers=1, samples=plan.roundtrips)
    baseline_100 = measure_group_send(receivers=100, samples=max(20, plan.roundtrips // 10))
    workers: list[infra.Worker] = []
    server: infra.AsgiServer | None = None
    try:
        workers = [infra.start_worker(1), infra.start_worker(2)]
        server = infra.start_asgi_server()
        print(f"ASGI server: uvicorn pid {server.process.pid}; workers: {', '.join(w.name for w in workers)}")
        one = measure_clients(server, workflow, token, clients=1, plan=plan)
        hundred = measure_clients(server, workflow, token, clients=100, plan=plan)
    finally:
        if server is not None:
            infra.stop_asgi_server(server)
        for worker in workers:
            infra.stop_worker(worker)
    print(_machine())
    print()
    report.print_table(rows(one, hundred, baseline_1, baseline_100), headers=HEADERS)
    print()
    print(
        "\n".join(
            [
                f"Runs: {plan.runs} (after {plan.warmup} warm-up) of {STEPS} dispatched {STEP_SECONDS * 1000:.0f} ms "
                f"steps on 2 Celery worker processes (prefork, 1 each); every message of a run counts",
                f"  (step_update, log, execution_update/completed): {len(one.samples)} samples with 1 client, "
                f"{len(hundred.samples)} with 100.",
                "Latency: client's time.time() when the frame arrived - the message's timestamp (stamped in the "
                "on-commit callback); clients: the websockets library, one asyncio loop in this process.",
                f"Baseline: group_send -> receive in this process, {len(baseline_1.samples)} round trips with 1 "
                f"receiver, {len(baseline_100.samples) // 100} with 100 (latency of each receiver).",
                f"Max: {one.max:.1f} ms (1 client), {hundred.max:.1f} ms (100 clients).",
            ]
        )
    )
    return 0


HEADERS = ("Workload", "Metric", "Flowbuilder", "Bare group_send", "Ratio", "Target", "Met", "Notes")


def rows(one: Latency, hundred: Latency, base_1: Latency, base_100: Latency) -> list[Any]:
    from bench.report import Row

    target = f"p99 < {TARGET_P99_MS:g} ms"
    return [
        Row("commit -> ws client, 1 client", "p50", one.p50, baseline=base_1.p50),
        Row("commit -> ws client, 1 client", "p99", one.p99, baseline=base_1.p99, target=target,
            met=one.p99 < TARGET_P99_MS),
        Row("commit -> ws client, 100 clients", "p50", hundred.p50, baseline=base_100.p50,
            anchors="same workflow socket"),
        Row("commit -> ws client, 100 clients", "p99", hundred.p99, baseline=base_100.p99, target=target,
            met=hundred.p99 < TARGET_P99_MS),
    ]  # fmt: skip


def _machine() -> str:
    one, five, _ = os.getloadavg()
    return f"Machine: {os.cpu_count()} cores, load average {one:.2f} (1 min), {five:.2f} (5 min)"
