"""Overload against a live server: answers are 2xx, 429 or 503 with Retry-After, and nothing accepted is lost."""

from __future__ import annotations

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from django.db import connection

from executions.models import Execution
from tests.engine_fixtures import wait_for
from tests.executions.live.helpers import running_server, server_env, token_for
from tests.factories import UserFactory
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def connections_open() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()")
        return cursor.fetchone()[0]


def test_a_process_at_capacity_sheds_new_requests_with_503_and_retry_after(celery_worker, tmp_path):
    user = UserFactory()
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    gate = tmp_path / "gate"
    held = workflow_create(
        owner=user,
        name="held",
        definition=linear(node("start", "trigger.manual"), node("hold", "test.slow", gate=str(gate), seconds=0)),
    )
    workflow = workflow_create(owner=user, name="quick", definition=linear(node("start", "trigger.manual")))
    release = threading.Event()

    def slow_body():  # a client still sending its request: the process is busy with it
        yield b'{"input_data": '
        release.wait(60)
        yield b"{}}"

    env = server_env(
        FLOWBUILDER_MAX_CONCURRENT_REQUESTS="3",
        RATE_LIMIT_ENABLED="false",  # the probing below must meet the shedding, not the rate limit
        FLOWBUILDER_EXTRA_NODE_MODULES="tests.executions.nodes",
    )
    with running_server(env, tmp_path / "server.log") as base, ThreadPoolExecutor(6) as pool:
        url = f"{base}/api/v1/workflows/{workflow.pk}/execute"
        json_headers = {**headers, "Content-Type": "application/json"}
        # Three sync executes waiting for their held runs do not count: they use no CPU while they wait.
        waiting = [
            pool.submit(
                httpx.post,
                f"{base}/api/v1/workflows/{held.pk}/execute",
                json={"input_data": {}, "mode": "sync"},
                headers=headers,
                timeout=60,
            )
            for _ in range(3)
        ]
        wait_for(lambda: Execution.objects.filter(workflow=held, status="running").count() == 3, timeout=30)
        # A run is `running` from its start, in the request, a moment before that request begins
        # to wait; once all three wait, a fourth request is answered (if they counted it never would be).
        wait_for(lambda: httpx.get(f"{base}/api/v1/workflows", headers=headers, timeout=10).status_code == 200)
        time.sleep(0.5)  # that GET's slot is freed just after its answer is sent
        # Three requests still arriving do: the process is at capacity.
        busy = [pool.submit(httpx.post, url, content=slow_body(), headers=json_headers, timeout=60) for _ in range(3)]
        # A probe admitted before all three are in would take a slot itself: let them arrive first.
        time.sleep(1)
        shed = [httpx.get(f"{base}/api/v1/workflows", headers=headers, timeout=10) for _ in range(3)]
        execute = httpx.post(url, json={}, headers=headers, timeout=10)
        health = httpx.get(f"{base}/api/v1/monitoring/health", timeout=10)
        release.set()
        accepted = [future.result() for future in busy]
        after = httpx.get(f"{base}/api/v1/workflows", headers=headers, timeout=10)
        gate.touch()
        finished = [future.result() for future in waiting]
    for response in [*shed, execute]:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "2"
        error = response.json()["error"]
        assert (error["code"], error["reason"]) == ("SERVICE_UNAVAILABLE", "OVERLOADED")
        assert "retry" in error["message"]
    assert health.status_code == 200  # monitoring still sees the truth
    assert [response.status_code for response in accepted] == [202] * 3
    assert after.status_code == 200
    assert [(r.status_code, r.json()["status"]) for r in finished] == [(200, "completed")] * 3
    assert Execution.objects.filter(workflow=workflow).count() == 3  # the shed execute started nothing


def test_a_burst_gets_only_2xx_429_503_and_every_accepted_run_completes(celery_worker, tmp_path):
    user = UserFactory()
    headers = {"Authorization": f"Bearer {token_for(user)}"}
    workflow = workflow_create(
        owner=user,
        name="double",
        definition=linear(
            node("start", "trigger.manual"),
            node("f", "test.flaky", value="{{ input.n }}"),
            node("out", "output", value={"double": "{{ steps.f.output.value * 2 }}"}),
        ),
    )
    # A small pool and a short pool timeout, so the burst meets an exhausted pool as well as the limit.
    env = server_env(
        FLOWBUILDER_DB_POOL_MAX_SIZE="4",
        FLOWBUILDER_DB_POOL_TIMEOUT="1",
        FLOWBUILDER_MAX_CONCURRENT_REQUESTS="24",
        RATE_LIMIT_ENABLED="false",
        FLOWBUILDER_EXTRA_NODE_MODULES="tests.executions.nodes",
    )
    answers: Counter[int] = Counter()
    accepted: dict[str, int] = {}
    most_connections = [0]
    lock = threading.Lock()
    with running_server(env, tmp_path / "server.log") as base:
        baseline = connections_open()

        def submit(n: int) -> None:
            response = httpx.post(
                f"{base}/api/v1/workflows/{workflow.pk}/execute",
                json={"input_data": {"n": n}},
                headers=headers,
                timeout=60,
            )
            with lock:
                answers[response.status_code] += 1
                if response.status_code == 202:
                    accepted[response.json()["execution_id"]] = n
                if response.status_code == 503:
                    assert response.headers["Retry-After"]

        def read(n: int) -> None:
            path = "/api/v1/workflows" if n % 2 else "/api/v1/executions"
            response = httpx.get(f"{base}{path}", headers=headers, timeout=60)
            with lock:
                answers[response.status_code] += 1

        stop = threading.Event()

        def sample() -> None:
            while not stop.wait(0.1):
                most_connections[0] = max(most_connections[0], connections_open())

        sampler = threading.Thread(target=sample)
        sampler.start()
        try:
            with ThreadPoolExecutor(40) as pool:
                jobs = [pool.submit(submit, n) for n in range(240)] + [pool.submit(read, n) for n in range(80)]
                for job in jobs:
                    job.result()
        finally:
            stop.set()
            sampler.join()
    assert set(answers) <= {200, 202, 429, 503}, answers
    assert answers[202] > 0
    assert most_connections[0] - baseline <= 4  # one process: its pool's size at most
    ids = list(accepted)
    wait_for(lambda: not Execution.objects.filter(pk__in=ids, status__in=Execution.ACTIVE).exists(), timeout=120)
    outputs = dict(Execution.objects.filter(pk__in=ids).values_list("pk", "output_data"))
    assert {str(pk): output for pk, output in outputs.items()} == {
        run_id: {"double": 2 * n} for run_id, n in accepted.items()
    }
    assert Execution.objects.count() == len(accepted)  # nothing refused was started
