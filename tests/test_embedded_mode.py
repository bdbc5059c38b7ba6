"""`make run`'s shape: no env at all → SQLite, in-process worker, served by uvicorn.

Starts the real ASGI server in a subprocess with an empty environment (no
DATABASE_URL, no REDIS_URL), then registers, logs in and reads /auth/me and
the docs over HTTP.
"""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import httpx
import pytest
from websockets.sync.client import connect

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def embedded_server(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("embedded")
    env = {"PATH": os.environ["PATH"], "HOME": str(data_dir), "FLOWBUILDER_DATA_DIR": str(data_dir)}
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput"], cwd=ROOT, env=env, check=True, capture_output=True
    )
    demo = subprocess.run(
        [sys.executable, "manage.py", "create_demo_user"], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    )
    port = free_port()
    log = (data_dir / "server.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "flowbuilder.asgi:application", "--port", str(port), "--lifespan", "on"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/api/v1/monitoring/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            time.sleep(0.2)
    else:
        server.kill()
        pytest.fail((data_dir / "server.log").read_text())
    yield base, data_dir, demo.stdout
    server.terminate()
    server.wait(10)


def test_sqlite_in_wal_mode(embedded_server):
    _, data_dir, _ = embedded_server
    with sqlite3.connect(data_dir / "db.sqlite3") as db:
        assert db.execute("PRAGMA journal_mode").fetchone() == ("wal",)


def test_newcomer_registers_logs_in_and_reads_me(embedded_server):
    base, _, _ = embedded_server
    with httpx.Client(base_url=base) as http:
        created = http.post(
            "/api/v1/auth/register", json={"email": "new@example.com", "password": "a-long-passphrase-1"}
        )
        assert created.status_code == 201, created.text
        tokens = http.post(
            "/api/v1/auth/login", json={"email": "new@example.com", "password": "a-long-passphrase-1"}
        ).json()
        me = http.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert me.json()["email"] == "new@example.com"


def test_demo_user_can_log_in(embedded_server):
    base, _, demo_output = embedded_server
    fields = dict(line.strip().split(":", 1) for line in demo_output.splitlines()[1:])
    email, password = fields["e-mail"].strip(), fields["password"].strip()
    response = httpx.post(f"{base}/api/v1/auth/login", json={"email": email, "password": password})
    assert response.status_code == 200


def test_docs_and_their_assets_are_served(embedded_server):
    base, _, _ = embedded_server
    docs = httpx.get(f"{base}/docs")
    assert docs.status_code == 200
    asset = httpx.get(f"{base}/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js")
    assert asset.status_code == 200
    assert httpx.get(f"{base}/openapi.json").json()["info"]["title"] == "Flowbuilder API"


def test_embedded_worker_started(embedded_server):
    _, data_dir, _ = embedded_server
    assert "Embedded Celery worker" in (data_dir / "server.log").read_text()


def test_workflows_run_in_the_background(embedded_server):
    """No broker, no separate worker: the API answers 202 at once and the in-process worker runs it."""
    base, _, demo_output = embedded_server
    fields = dict(line.strip().split(":", 1) for line in demo_output.splitlines()[1:])
    with httpx.Client(base_url=base, timeout=10) as http:
        tokens = http.post(
            "/api/v1/auth/login", json={"email": fields["e-mail"].strip(), "password": fields["password"].strip()}
        ).json()
        http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        definition = {
            "nodes": [
                {"id": "start", "type": "trigger.manual", "config": {}},
                {"id": "pause", "type": "delay", "config": {"seconds": 1}},
                {"id": "double", "type": "transform", "config": {"value": "{{ input.n * 2 }}"}},
            ],
            "edges": [{"source": "start", "target": "pause"}, {"source": "pause", "target": "double"}],
        }
        workflow = http.post("/api/v1/workflows", json={"name": "embedded", "definition": definition})
        assert workflow.status_code == 201, workflow.text
        started = time.monotonic()
        accepted = http.post(f"/api/v1/workflows/{workflow.json()['id']}/execute", json={"input_data": {"n": 21}})
        assert accepted.status_code == 202, accepted.text
        assert time.monotonic() - started < 1  # answered before the delay is over
        execution_id = accepted.json()["execution_id"]
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            body = http.get(f"/api/v1/executions/{execution_id}").json()
            if body["status"] in ("completed", "failed"):
                break
            time.sleep(0.1)
        assert body["status"] == "completed", body
        assert body["output_data"] == {"double": 42}


def _demo_login(base: str, demo_output: str) -> tuple[httpx.Client, str]:
    fields = dict(line.strip().split(":", 1) for line in demo_output.splitlines()[1:])
    email, password = fields["e-mail"].strip(), fields["password"].strip()
    http = httpx.Client(base_url=base, timeout=10)
    tokens = http.post("/api/v1/auth/login", json={"email": email, "password": password}).json()
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    return http, password


def test_staff_health_and_metrics_on_sqlite(embedded_server):
    """The checks and statistics of the staff console on the embedded stack (SQLite, memory broker and layer)."""
    base, _, demo_output = embedded_server
    http, _ = _demo_login(base, demo_output)
    try:
        health = http.get("/api/v1/monitoring/health")
        assert health.status_code == 200, health.text
        checks = health.json()["checks"]
        for name in ("database", "cache", "broker", "channel_layer", "workers"):
            assert checks[name]["ok"], (name, checks[name])
        assert checks["workers"]["detail"]["names"][0].startswith("embedded@")

        created = http.post(
            "/api/v1/workflows",
            json={
                "name": "timed",
                "definition": {
                    "nodes": [
                        {"id": "start", "type": "trigger.manual", "config": {}},
                        {"id": "pause", "type": "delay", "config": {"seconds": 0.3}},
                    ],
                    "edges": [{"source": "start", "target": "pause"}],
                },
            },
            headers={"User-Agent": "embedded-test"},
        )
        workflow = created.json()
        # The audit context travels through the ASGI stack: actor, request id, user agent.
        audit = http.get("/api/v1/audit", params={"action": "workflow.created", "object_id": workflow["id"]})
        (event,) = audit.json()["items"]
        assert event["actor_email"] == "demo@flowbuilder.local"
        assert (event["source"], event["ip"], event["user_agent"]) == ("api", "127.0.0.1", "embedded-test")
        assert event["request_id"] == created.headers["X-Request-ID"]
        execution_id = http.post(f"/api/v1/workflows/{workflow['id']}/execute", json={}).json()["execution_id"]
        deadline = time.monotonic() + 20
        while http.get(f"/api/v1/executions/{execution_id}").json()["status"] != "completed":
            assert time.monotonic() < deadline
            time.sleep(0.1)

        metrics = http.get("/api/v1/monitoring/metrics")
        assert metrics.status_code == 200, metrics.text
        last_24h = metrics.json()["workflows"]["last_24h"]
        assert last_24h["runs"] >= 1
        assert last_24h["p50_seconds"] >= 0.3  # computed by ORDER BY/OFFSET on SQLite
        assert metrics.json()["workflows"]["queue"]["available"] is False  # no Redis: n/a

        usage = http.get("/api/v1/analytics/usage").json()
        assert usage["executions"]["completed"] >= 1
        assert usage["executions"]["average_duration"] >= 0.3
        rows = http.get("/api/v1/analytics/workflows").json()["items"]
        assert any(row["name"] == "timed" and row["completed"] == 1 for row in rows)
    finally:
        http.close()


def test_admin_dashboard_on_sqlite(embedded_server):
    base, _, demo_output = embedded_server
    fields = dict(line.strip().split(":", 1) for line in demo_output.splitlines()[1:])
    with httpx.Client(base_url=base, timeout=10, follow_redirects=False) as browser:
        form = browser.get("/admin/login/")
        token = form.text.split('name="csrfmiddlewaretoken" value="', 1)[1].split('"', 1)[0]
        signed_in = browser.post(
            "/admin/login/?next=/admin/",
            data={
                "csrfmiddlewaretoken": token,
                "username": fields["e-mail"].strip(),
                "password": fields["password"].strip(),
                "next": "/admin/",
            },
        )
        assert signed_in.status_code == 302, signed_in.text[:2000]
        index = browser.get("/admin/")
        assert index.status_code == 200
        assert 'id="console-dashboard"' in index.text
        metrics = browser.get("/metrics")  # a staff session may read the Prometheus endpoint
        assert metrics.status_code == 200
        assert "flowbuilder_executions" in metrics.text


def test_websocket_sees_a_run_live(embedded_server):
    """Embedded mode end to end: the in-process worker's threads publish, the in-memory layer hands the
    events to the server's loop (bound by the lifespan), a socket authenticated by subprotocol relays them.

    The hand-over itself (a publish from a worker thread waking an idle loop) is tests/test_channel_layer.py's.
    """
    base, _, demo_output = embedded_server
    fields = dict(line.strip().split(":", 1) for line in demo_output.splitlines()[1:])
    with httpx.Client(base_url=base, timeout=10) as http:
        token = http.post(
            "/api/v1/auth/login", json={"email": fields["e-mail"].strip(), "password": fields["password"].strip()}
        ).json()["access_token"]
        http.headers["Authorization"] = f"Bearer {token}"
        definition = {
            "nodes": [
                {"id": "start", "type": "trigger.manual", "config": {}},
                {"id": "pause", "type": "delay", "config": {"seconds": 0.5}},
                {"id": "done", "type": "transform", "config": {"value": "ok"}},
            ],
            "edges": [{"source": "start", "target": "pause"}, {"source": "pause", "target": "done"}],
        }
        workflow_id = http.post("/api/v1/workflows", json={"name": "live", "definition": definition}).json()["id"]
        url = base.replace("http://", "ws://") + f"/ws/workflows/{workflow_id}/"
        with connect(url, subprotocols=["bearer", token], open_timeout=10) as ws:
            assert ws.subprotocol == "bearer"
            assert json.loads(ws.recv(timeout=10))["type"] == "active_executions"
            execution_id = http.post(f"/api/v1/workflows/{workflow_id}/execute", json={"input_data": {}}).json()[
                "execution_id"
            ]
            messages, delays = [], []
            while not messages or messages[-1]["type"] not in ("execution_completed", "execution_failed"):
                message = json.loads(ws.recv(timeout=5))
                if message["type"] != "ping":
                    messages.append(message)
                    delays.append(time.time() - datetime.fromisoformat(message["timestamp"]).timestamp())
        # The log stream too, on SQLite: the whole log of the ended run, then the end event.
        with http.stream("GET", f"/api/v1/executions/{execution_id}/logs/stream", params={"token": token}) as sse:
            body = sse.read().decode()
    print(f"embedded: commit -> socket, max {1000 * max(delays):.1f} ms over {len(delays)} messages")
    assert body.count("event: log") == sum(1 for m in messages if m["type"] == "log")
    end = json.dumps({"execution_id": execution_id, "status": "completed"})
    assert body.rstrip().endswith(f"event: end\ndata: {end}")
    assert {m["execution_id"] for m in messages} == {execution_id}
    assert [m["seq"] for m in messages] == list(range(1, len(messages) + 1))
    steps = [(m["data"]["node_id"], m["data"]["status"]) for m in messages if m["type"] == "step_update"]
    assert ("pause", "waiting") in steps
    assert steps[-1] == ("done", "completed")
    assert (messages[-1]["status"], messages[-1]["progress"]) == ("completed", 100)
