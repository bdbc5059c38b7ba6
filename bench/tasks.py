"""Raw Celery baselines, registered on the project's Celery app (same broker, queue and ack policy as steps).

* :func:`raw_http_get`: one hop of a plain Celery chain doing the same GET as ``bench.http_get``,
  recording its start and end times in a Redis list.
* :func:`raw_ping`: a single task that writes a database row, for a round-trip baseline.
"""

from __future__ import annotations

import json
import os
import time
from functools import cache

import httpx
import redis
from django.db import connection

from flowbuilder.celery import app

# One client per worker process, reused by every hop (the fork happens before the first request).
CLIENT = httpx.Client(timeout=10, trust_env=False)
RAW_TASK = {"acks_late": True, "ignore_result": True, "queue": "steps"}
PING_TABLE = "bench_ping"


@cache
def redis_client() -> redis.Redis:
    return redis.Redis.from_url(os.environ["REDIS_URL"])


def timings_key(run_id: str) -> str:
    return f"bench:raw:{run_id}"


@app.task(name="bench.raw_http_get", **RAW_TASK)
def raw_http_get(url: str, run_id: str, index: int) -> None:
    started = time.time()
    status = CLIENT.get(url).status_code
    if status != 200:
        raise RuntimeError(f"GET {url} answered {status}")
    redis_client().rpush(timings_key(run_id), json.dumps([index, started, time.time()]))


@app.task(name="bench.raw_ping", **RAW_TASK)
def raw_ping(token: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(f"INSERT INTO {PING_TABLE} (token, at) VALUES (%s, %s)", [token, time.time()])
