"""The engine benchmark: dispatched-step transitions, inline chains, latency and throughput.

Runs against PostgreSQL (``DATABASE_URL``) and Redis (``REDIS_URL``) with real Celery worker
processes it starts itself, and prints one table with the raw Celery baselines measured in the
same run. ``python -m bench engine [--quick]``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from bench import infra

CHAIN_STEPS = 40


@dataclass(frozen=True)
class Plan:
    repetitions: int  # W40 engine/raw pairs, and W40-inline runs
    warmup: int
    latency_runs: int  # three-step runs and raw round trips
    throughput_count: int

    @classmethod
    def for_mode(cls, *, quick: bool) -> Plan:
        if quick:
            return cls(repetitions=2, warmup=1, latency_runs=20, throughput_count=50)
        return cls(repetitions=5, warmup=1, latency_runs=100, throughput_count=200)


def main(*, quick: bool = False) -> int:
    plan = Plan.for_mode(quick=quick)
    infra.configure_environment()
    infra.ensure_database(os.environ["DATABASE_URL"])
    infra.setup_django()
    from bench import report, workloads  # they need Django set up

    infra.purge_queues()
    print(_machine())
    server = infra.start_http_server()
    workers: list[infra.Worker] = []
    try:
        workers.append(infra.start_worker(1))
        print(_describe(workers))
        owner = workloads.bench_owner()
        w40_engine, w40_raw = workloads.measure_w40(
            owner, infra.server_url(server), steps=CHAIN_STEPS, runs=plan.repetitions, warmup=plan.warmup
        )
        inline = workloads.measure_inline(owner, steps=CHAIN_STEPS, runs=plan.repetitions, warmup=plan.warmup)
        three_step = workloads.three_step_workflow(owner)
        latency = workloads.measure_latency(three_step, runs=plan.latency_runs, warmup=5)
        raw_roundtrip = workloads.measure_raw_roundtrip(runs=plan.latency_runs, warmup=5)
        workers.append(infra.start_worker(2))
        print(_describe(workers))
        throughput = workloads.measure_throughput(three_step, count=plan.throughput_count, workers=len(workers))
        concurrent = workloads.measure_throughput(
            three_step, count=plan.throughput_count, workers=len(workers), submitters=4
        )
        capacity = workloads.measure_capacity(three_step, count=plan.throughput_count, workers=len(workers))
    finally:
        for worker in workers:
            infra.stop_worker(worker)
        server.shutdown()
    results = report.Results(
        w40_engine=w40_engine,
        w40_raw=w40_raw,
        inline=inline,
        three_step=latency,
        raw_roundtrip=raw_roundtrip,
        throughput=throughput,
        concurrent=concurrent,
        capacity=capacity,
        chain_steps=CHAIN_STEPS,
        inline_steps=CHAIN_STEPS,
    )
    print(_machine())
    print()
    report.print_table(report.rows(results))
    report.print_notes(results, repetitions=plan.repetitions)
    return 0


def _describe(workers: list[infra.Worker]) -> str:
    return "Workers: " + ", ".join(f"{w.name} (pid {w.process.pid}, pool {w.child_pids})" for w in workers)


def _machine() -> str:
    """Cores and load: other work on the machine skews every number here."""
    one, five, _ = os.getloadavg()
    return f"Machine: {os.cpu_count()} cores, load average {one:.2f} (1 min), {five:.2f} (5 min)"
