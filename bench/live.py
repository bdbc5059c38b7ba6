"""The live-updates benchmark: from a committed state change to a websocket client reading it.

``python -m bench live [--quick]``. Starts uvicorn (channels-redis) and two Celery worker
processes on the bench database and Redis, connects 1 and then 100 websocket clients to
``ws/workflows/{id}/`` of one workflow, and runs a chain of dispatched steps (``bench.sleep``).
For every message each client reads, the latency is the client's clock when the frame arrived
minus the message's ``timestamp``, which the publisher stamps in the on-commit callback, right
after the transaction that made the change committed (one machine: one clock). Baseline in the
same run: a bare channels-redis ``group_send`` -> ``receive`` round trip, with 1 and with 100
receiving channels in one process.

Knobs (environment): ``BENCH_LIVE_STEP_SECONDS`` (0.1: each step a 100 ms call; 0.02 turns the
100-client case into a fan-out throughput test, 12 000 frames/s), ``BENCH_LIVE_ASGI_PROCESSES``
(1), ``BENCH_LIVE_COMPRESSION`` (``deflate`` as browsers; empty for none).
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import time
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bench import infra

STEPS = 10  # dispatched steps per run
STEP_SECONDS = float(os.environ.get("BENCH_LIVE_STEP_SECONDS", "0.1"))  # each step: a 100 ms call, say
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
    """``count`` websocket clients of one workflow socket, spread over client processes.

    Clients run in processes of their own (not the one driving the runs), each an asyncio loop
    that only stamps and stores frames while runs go on; frames are decoded afterwards. A child
    reports each run that reached all of its clients; at the end it answers its latencies.
    """

    def __init__(self, url: str, count: int, *, processes: int) -> None:
        import multiprocessing

        context = multiprocessing.get_context("spawn")
        self.pipes = []
        self.processes = []
        sizes = [count // processes + (1 if i < count % processes else 0) for i in range(processes)]
        for size in (s for s in sizes if s):
            ours, theirs = context.Pipe()
            process = context.Process(target=client_process, args=(url, size, theirs), daemon=True)
            process.start()
            self.pipes.append(ours)
            self.processes.append(process)
        for pipe in self.pipes:
            if not pipe.poll(120) or pipe.recv() != ("ready",):
                raise RuntimeError("A client process did not connect its clients")

    def record(self, on: bool) -> None:
        for pipe in self.pipes:
            pipe.send(("record", on))

    def wait_for_end(self, execution_id: str, timeout: float = 60.0) -> None:
        for pipe in self.pipes:
            deadline = time.monotonic() + timeout
            while True:
                if not pipe.poll(max(0.0, deadline - time.monotonic())):
                    raise RuntimeError(f"Run {execution_id} did not reach every client in {timeout:.0f}s")
                if pipe.recv() == ("end", execution_id):
                    break

    def close(self) -> list[float]:
        latencies: list[float] = []
        for pipe in self.pipes:
            pipe.send(("stop",))
            latencies.extend(pipe.recv())
        for process in self.processes:
            process.join(30)
        return latencies


def client_process(url: str, count: int, pipe: Any) -> None:
    asyncio.run(_clients(url, count, pipe))


async def _clients(url: str, count: int, pipe: Any) -> None:
    from websockets.asyncio.client import connect

    sockets = []
    for _ in range(count):
        ws = await connect(
            url, open_timeout=60, max_size=None, compression=os.environ.get("BENCH_LIVE_COMPRESSION", "deflate") or None
        )
        if json.loads(await ws.recv()).get("type") != "active_executions":
            raise RuntimeError("unexpected first message")
        sockets.append(ws)
    frames: list[tuple[float, bool, str]] = []  # (arrival, recording, text)
    ends: dict[str, int] = defaultdict(int)
    state = {"recording": False}
    stop = asyncio.Event()

    def control() -> None:
        while pipe.poll():
            message = pipe.recv()
            if message[0] == "record":
                state["recording"] = message[1]
            elif message[0] == "stop":
                stop.set()

    async def read(ws: Any) -> None:
        async for text in ws:
            frames.append((time.time(), state["recording"], text))
            if '"type": "execution_completed"' in text or '"type": "execution_failed"' in text:
                execution_id = json.loads(text)["execution_id"]
                ends[execution_id] += 1
                if ends[execution_id] == count:
                    pipe.send(("end", execution_id))

    loop = asyncio.get_running_loop()
    loop.add_reader(pipe.fileno(), control)
    readers = [asyncio.ensure_future(read(ws)) for ws in sockets]
    pipe.send(("ready",))
    await stop.wait()
    for reader in readers:
        reader.cancel()
    await asyncio.gather(*(ws.close() for ws in sockets), return_exceptions=True)
    latencies = []
    for arrived, recording, text in frames:
        message = json.loads(text)
        if recording and message["type"] != "ping":
            latencies.append((arrived - datetime.fromisoformat(message["timestamp"]).timestamp()) * 1000)
    pipe.send(latencies)


def measure_clients(
    server: infra.AsgiServer, workflow: Any, token: str, *, clients: int, plan: Plan, processes: int = 2
) -> Latency:
    from django.db import transaction

    from executions.services import execution_start

    sockets = Clients(f"{server.ws_url}/ws/workflows/{workflow.pk}/?token={token}", clients, processes=processes)
    try:
        for index in range(plan.warmup + plan.runs):
            sockets.record(index >= plan.warmup)
            with transaction.atomic():
                execution, _ = execution_start(workflow=workflow, input_data={})
            sockets.wait_for_end(str(execution.pk))
            time.sleep(SETTLE_SECONDS)
        sockets.record(False)
    finally:
        latencies = sockets.close()
    return Latency(latencies)


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
        server = infra.start_asgi_server(processes=int(os.environ.get("BENCH_LIVE_ASGI_PROCESSES", "1")))
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
                "on-commit callback); clients: the websockets library (permessage-deflate on, as browsers),",
                "  in 2 client processes that stamp frames on arrival and decode them after the runs.",
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
