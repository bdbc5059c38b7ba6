"""Parts of a production-shaped stack killed mid-run: nothing accepted is lost, stuck, doubled or wrong.

Each test submits runs through the API (``http_request`` to a counting receiver,
a slow step, an output computed from the response), breaks one part while they
go, brings it back, and checks every run: completed, the right output, each
request made exactly as many times as its step was attempted. The time from the
part's return to the last run's end is printed (``-s``): the recovery time.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from tests.faults.stack import Stack, wait_until

RUNS = 12


@pytest.fixture(scope="module", params=["redis", "rabbitmq"])
def stack(request, tmp_path_factory):
    """The stack with Celery on Redis, then on RabbitMQ (Redis still the cache and channel layer)."""
    stack = Stack(tmp_path_factory.mktemp("stack"), broker=request.param)
    try:
        stack.start_server()
        stack.start_workers(2)
        stack.start_beat()
        yield stack
    finally:
        stack.close()


@pytest.fixture(scope="module")
def workflow(stack):
    return stack.create_workflow(
        {
            "nodes": [
                {"id": "start", "type": "trigger.manual", "config": {}},
                {
                    "id": "fetch",
                    "type": "http_request",
                    "config": {"method": "GET", "url": stack.receiver.url + "/hit/{{ input.key }}/{{ input.n }}"},
                },
                {"id": "slow", "type": "test.slow", "config": {"seconds": 1}},
                {"id": "out", "type": "output", "config": {"value": {"double": "{{ steps.fetch.output.body.n * 2 }}"}}},
            ],
            "edges": [
                {"source": "start", "target": "fetch"},
                {"source": "fetch", "target": "slow"},
                {"source": "slow", "target": "out"},
            ],
        }
    )


def submit(stack: Stack, workflow: str, key: str) -> list[str]:
    """Submit the runs; answers their ids once they are going, so the fault meets work in flight."""
    ids = [stack.execute(workflow, {"key": key, "n": n}) for n in range(RUNS)]
    going = [status for status, _ in stack.runs(ids).values() if status in ("queued", "running")]
    assert going, "every run had ended before the fault: it would test nothing"
    return ids


def check(stack: Stack, ids: list[str], key: str, restored_at: float, timeout: float = 150) -> float:
    """Every run completed once with its output; each request made once per attempt. Answers the recovery time."""
    runs = stack.wait_all_finished(ids, timeout)
    recovered = time.monotonic() - restored_at
    outputs = [runs[run_id] for run_id in ids]
    assert outputs == [("completed", {"double": 2 * n}) for n in range(RUNS)], stack.log_tail()
    attempts = stack.attempts(ids, "fetch")
    hits = stack.receiver.hits
    assert sorted(hits[f"/hit/{key}/{n}"] for n in range(RUNS)) == sorted(attempts.values())
    print(
        f"\n{key}: {RUNS} runs completed {recovered:.1f} s after the fault ended; fetch attempts {sorted(attempts.values())}"
    )
    return recovered


def test_postgres_restarted_mid_run(stack, workflow):
    ids = submit(stack, workflow, "pg-restart")
    stack.postgres.stop("fast")  # every session ends; workers and the server lose their connections
    time.sleep(3)
    stack.postgres.start()
    check(stack, ids, "pg-restart", time.monotonic())


def test_postgres_crashed_mid_run(stack, workflow):
    ids = submit(stack, workflow, "pg-crash")
    stack.postgres.stop("immediate")  # a crash: recovered from the WAL at start
    time.sleep(3)
    stack.postgres.start()
    check(stack, ids, "pg-crash", time.monotonic())


def test_redis_killed_mid_run(stack, workflow):
    ids = submit(stack, workflow, "redis-kill")
    stack.redis.kill()  # the broker's queued messages are gone with it: the rows are the outbox
    time.sleep(3)
    stack.redis.start()
    check(stack, ids, "redis-kill", time.monotonic())


def test_every_worker_and_beat_killed_mid_run(stack, workflow):
    ids = submit(stack, workflow, "workers-kill")
    stack.kill_workers()
    stack.kill(stack.beat)
    time.sleep(2)
    stack.start_workers(2)
    stack.start_beat()
    check(stack, ids, "workers-kill", time.monotonic())


def test_the_web_process_killed_under_connected_sockets(stack, tmp_path):
    gate = tmp_path / "gate"
    held = stack.create_workflow(
        {
            "nodes": [
                {"id": "start", "type": "trigger.manual", "config": {}},
                {"id": "wait", "type": "test.slow", "config": {"gate": str(gate), "seconds": 0}},
                {"id": "out", "type": "output", "config": {"value": "done"}},
            ],
            "edges": [{"source": "start", "target": "wait"}, {"source": "wait", "target": "out"}],
        },
        name="held",
    )
    run_id = stack.execute(held, {})
    url = stack.base.replace("http://", "ws://") + f"/ws/executions/{run_id}/?api_key={stack.api_key}"

    def receive(socket) -> dict:
        while True:
            message = json.loads(socket.recv(timeout=30))
            if message["type"] != "ping":
                return message

    with connect(url) as socket:
        first = receive(socket)
        assert first["type"] == "snapshot"
        stack.kill(stack.server)  # SIGKILL, sockets open
        with pytest.raises(ConnectionClosed):
            socket.recv(timeout=30)
    stack.start_server()
    with connect(url) as socket:  # the client reconnects and resumes from a fresh snapshot
        snapshot = receive(socket)
        assert (snapshot["type"], snapshot["status"]) == ("snapshot", "running")
        gate.touch()
        messages = [receive(socket)]
        while messages[-1]["type"] not in ("execution_completed", "execution_failed"):
            messages.append(receive(socket))
    assert messages[-1]["type"] == "execution_completed"
    assert [message["seq"] for message in messages] == sorted(message["seq"] for message in messages)
    assert messages[0]["seq"] > snapshot["seq"]


def test_a_scheduled_tick_that_meets_a_database_outage_is_fired_when_it_is_back(stack):
    schedule = stack.create_workflow(
        {
            "nodes": [
                {"id": "tick", "type": "trigger.schedule", "config": {"cron": "* * * * *", "overlap": "allow"}},
                {"id": "out", "type": "output", "config": {"value": "{{ input.scheduled_for }}"}},
            ],
            "edges": [{"source": "tick", "target": "out"}],
        },
        name="every minute",
    )
    tick = datetime.now(UTC).replace(second=0, microsecond=0)
    logs = [stack.logs / "worker0.log", stack.logs / "worker1.log"]
    stack.postgres.stop("fast")
    try:  # the wake-up for this minute's tick, as beat sends it, while the database is down
        Celery(broker=stack.broker_url).send_task(
            "workflows.fire_schedule", args=[schedule, (tick + timedelta(seconds=1)).isoformat()], queue="default"
        )
        wait_until(lambda: any("not fired" in log.read_text() for log in logs), 30, "a try that met the outage")
    finally:
        stack.postgres.start()
    select = "SELECT status FROM executions_execution WHERE workflow_id::text = %s AND scheduled_for = %s"
    wait_until(lambda: stack.postgres.query(select, schedule, tick) == [("completed",)], 60, "the tick's run")
