"""DBOS on the peer workloads: run by ``bench peers`` with the interpreter of its scratch venv (not ours).

Environment: ``DBOS_DATABASE_URL`` (a database of its own), ``TARGET`` (the loopback URL to GET),
``W40_RUNS``, ``W3_RUNS``, ``BURST_RUNS``, ``CONCURRENCY``. Prints one JSON object: seconds per run
for each workload, and the burst's runs and seconds. Every step is a ``@DBOS.step`` (its result
committed to PostgreSQL before the next starts), every workload a ``@DBOS.workflow``.
"""

from __future__ import annotations

import json
import os
import sys
import time

import httpx
from dbos import DBOS, DBOSConfig

TARGET = os.environ["TARGET"]
CLIENT = httpx.Client(timeout=10, trust_env=False)

DBOS(
    config=DBOSConfig(
        name="flowbuilder-peers", system_database_url=os.environ["DBOS_DATABASE_URL"], log_level="WARNING"
    )
)


def fib(n: int) -> int:
    return n if n < 2 else fib(n - 1) + fib(n - 2)


@DBOS.step()
def get(index: int) -> int:
    response = CLIENT.get(TARGET)
    response.raise_for_status()
    return index


@DBOS.step()
def constant(index: int) -> int:
    return index


@DBOS.step()
def fib10(index: int) -> int:
    return fib(10)


@DBOS.workflow()
def w40_http() -> int:
    return sum(get(i) for i in range(40))


@DBOS.workflow()
def w40_transform() -> int:
    return sum(constant(i) for i in range(40))


@DBOS.workflow()
def w40_script() -> int:
    return sum(fib10(i) for i in range(40))


@DBOS.workflow()
def three() -> int:
    return constant(constant(1) + constant(2))


def timed(workflow: object, runs: int) -> list[float]:
    workflow()  # type: ignore[operator]
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        workflow()  # type: ignore[operator]
        seconds.append(time.perf_counter() - began)
    return seconds


def main() -> None:
    DBOS.launch()
    queue = DBOS.register_queue(
        "burst", worker_concurrency=int(os.environ.get("CONCURRENCY", "4")), polling_interval_sec=0.01
    )
    w40 = int(os.environ["W40_RUNS"])
    figures = {
        "w40_http": timed(w40_http, w40),
        "w40_transform": timed(w40_transform, w40),
        "w40_script": timed(w40_script, w40),
        "w3": timed(three, int(os.environ["W3_RUNS"])),
    }
    runs = int(os.environ["BURST_RUNS"])
    began = time.perf_counter()
    handles = [queue.enqueue(three) for _ in range(runs)]
    errors = 0
    for handle in handles:
        try:
            handle.get_result()
        except Exception:
            errors += 1
    figures["burst"] = {"runs": runs, "errors": errors, "seconds": time.perf_counter() - began}
    print(json.dumps(figures), flush=True)
    DBOS.destroy()


if __name__ == "__main__":
    main()
    sys.exit(0)
