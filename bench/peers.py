"""``python -m bench peers [--quick]``: Flowbuilder beside DBOS, n8n and a raw Celery chain, one run.

Each system runs the same workloads, one after another, against one loopback HTTP server:

* **W40-http**: 40 sequential GETs, one step each.
* **W40 light**: 40 light steps: transforms (n8n: Set; DBOS: a step returning a constant) and
  fib(10) scripts (Flowbuilder's sandboxed ``script``; n8n's Code node; DBOS: a step computing it).
* **W3**: a three-step run submitted and seen done, 100 times in a row (Flowbuilder: the REST API
  in ``sync`` mode; n8n: a webhook answering when its last node is done; DBOS: an in-process call).
* **Burst**: 500 three-step runs from 16 client threads (DBOS: through a queue of concurrency 4).

Flowbuilder runs in production shape: PostgreSQL, Redis, uvicorn (2 processes) and 2 prefork
Celery workers, every step committed and published live. DBOS commits every step to PostgreSQL
in-process; n8n (regular mode, PostgreSQL) keeps a run in memory and saves it once at its end.
DBOS and n8n are installed on first use into ``FLOWBUILDER_PEERS_DIR`` (default
``~/.cache/flowbuilder/peers``), from PyPI and npm; nothing of theirs is committed here.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from bench import infra

DBOS_REQUIREMENTS = ["dbos==3.4.0", "httpx==0.28.1"]
# 1.123.x is the last n8n line that runs on Node 20; its xlsx dependency points outside the
# registry, so it is overridden to the registry's build.
N8N_PACKAGE = {
    "name": "flowbuilder-peer-n8n",
    "private": True,
    "dependencies": {"n8n": "1.123.0"},
    "overrides": {"xlsx": "0.18.5"},
}
FIB = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\noutput = fib(10)\n"
N8N_FIB = "function fib(n){return n<2?n:fib(n-1)+fib(n-2)}\nreturn [{json:{v: fib(10)}}];"
CLIENTS = 16
WEB_PROCESSES = 2
WORKERS = 2


@dataclass(frozen=True)
class Plan:
    w40_runs: int
    w3_runs: int
    burst_runs: int

    @classmethod
    def for_mode(cls, *, quick: bool) -> Plan:
        return cls(w40_runs=2, w3_runs=20, burst_runs=100) if quick else cls(w40_runs=7, w3_runs=100, burst_runs=500)


@dataclass
class Burst:
    runs: int
    errors: int
    seconds: float
    shed: int = 0  # answered 429/503 and sent again after Retry-After (not errors: nothing was lost)

    @property
    def per_second(self) -> float:
        return (self.runs - self.errors) / self.seconds


@dataclass
class Figures:
    """One system's medians (seconds per run) and burst; None where it has no such workload."""

    name: str
    w40_http: list[float] = field(default_factory=list)
    w40_transform: list[float] = field(default_factory=list)
    w40_script: list[float] = field(default_factory=list)
    w3: list[float] = field(default_factory=list)
    burst: Burst | None = None
    notes: list[str] = field(default_factory=list)


def median_ms(values: list[float]) -> float | None:
    return statistics.median(values) * 1000 if values else None


def timed(run: Any, runs: int) -> list[float]:
    run()  # warm-up
    seconds = []
    for _ in range(runs):
        began = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - began)
    return seconds


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def peers_dir() -> Path:
    path = Path(os.environ.get("FLOWBUILDER_PEERS_DIR", Path.home() / ".cache" / "flowbuilder" / "peers"))
    path.mkdir(parents=True, exist_ok=True)
    return path


# --- Flowbuilder ----------------------------------------------------------------------------


def line(steps: list[dict[str, Any]]) -> dict[str, Any]:
    nodes = [{"id": "start", "type": "trigger.manual", "config": {}}, *steps]
    edges = [{"source": a["id"], "target": b["id"]} for a, b in itertools.pairwise(nodes)]
    return {"nodes": nodes, "edges": edges}


def flowbuilder(plan: Plan, url: str) -> tuple[Figures, Figures]:
    """Flowbuilder through its REST API, and the raw Celery chain on the same workers."""
    from django.contrib.auth.models import Group

    from accounts.roles import DEFAULT_ROLE
    from accounts.services import api_key_create
    from bench import workloads

    owner = workloads.bench_owner()
    owner.groups.add(Group.objects.get(name=DEFAULT_ROLE))
    _, api_key = api_key_create(user=owner, granted=owner.api_permissions, name=f"peers {uuid.uuid4().hex[:6]}")
    server = infra.start_asgi_server(processes=WEB_PROCESSES)
    workers = [infra.start_worker(index) for index in range(WORKERS)]
    ours, raw = Figures("Flowbuilder"), Figures("raw Celery")
    try:
        api = httpx.Client(base_url=f"{server.base_url}/api/v1", headers={"X-API-Key": api_key}, timeout=120)

        def create(name: str, steps: list[dict[str, Any]]) -> str:
            response = api.post("/workflows", json={"name": name, "definition": line(steps)})
            response.raise_for_status()
            return str(response.json()["id"])

        def run(workflow_id: str, client: httpx.Client = api) -> None:
            response = client.post(f"/workflows/{workflow_id}/execute", json={"input_data": {}, "mode": "sync"})
            response.raise_for_status()
            body = response.json()
            if body["status"] != "completed":
                raise RuntimeError(f"run {body.get('id')} ended {body['status']}: {body.get('error')}")

        http = create("peers W40-http", [http_get(i, url) for i in range(40)])
        transforms = create(
            "peers W40 transforms", [{"id": f"s{i}", "type": "transform", "config": {"value": i}} for i in range(40)]
        )
        scripts = create(
            "peers W40 scripts", [{"id": f"s{i}", "type": "script", "config": {"code": FIB}} for i in range(40)]
        )
        three = create(
            "peers W3",
            [
                {"id": "a", "type": "transform", "config": {"value": 1}},
                {"id": "b", "type": "transform", "config": {"value": 2}},
                {"id": "c", "type": "output", "config": {"value": 3}},
            ],
        )
        ours.w40_http = timed(lambda: run(http), plan.w40_runs)
        raw.w40_http = [
            sample.total_ms / 1000 for sample in (workloads.raw_chain_sample(url, 40) for _ in range(plan.w40_runs))
        ]
        ours.w40_transform = timed(lambda: run(transforms), plan.w40_runs)
        ours.w40_script = timed(lambda: run(scripts), max(2, plan.w40_runs // 2))
        ours.w3 = timed(lambda: run(three), plan.w3_runs)
        raw.w3 = [workloads.raw_roundtrip_sample().wall_ms / 1000 for _ in range(plan.w3_runs)]
        ours.burst = _burst(server.base_url, {"X-API-Key": api_key}, three, plan.burst_runs)
        ours.notes.append(
            f"Flowbuilder: uvicorn x {WEB_PROCESSES}, {WORKERS} prefork workers; runs through the REST API in sync"
            " mode; every step committed and published live"
        )
        raw.notes.append("raw Celery: W40 is a chain of 40 GET tasks; W3 one task writing a row (a broker round trip)")
    finally:
        for worker in workers:
            infra.stop_worker(worker)
        infra.stop_asgi_server(server)
    return ours, raw


def http_get(index: int, url: str) -> dict[str, Any]:
    return {"id": f"get{index}", "type": "http_request", "config": {"method": "GET", "url": url}}


def _burst(base: str, headers: dict[str, str], workflow_id: str, runs: int) -> Burst:
    errors = shed = 0
    lock = threading.Lock()
    local = threading.local()

    def one(_: int) -> None:
        nonlocal errors, shed
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=f"{base}/api/v1", headers=headers, timeout=120)
        key = uuid.uuid4().hex  # a retried submit is the same run, never a second one
        for _attempt in range(20):
            try:
                response = local.client.post(
                    f"/workflows/{workflow_id}/execute",
                    json={"input_data": {}, "mode": "sync"},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                response = None
            if response is not None and response.status_code in (429, 503):
                with lock:
                    shed += 1
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            ok = response is not None and response.status_code == 200 and response.json()["status"] == "completed"
            if not ok:
                with lock:
                    errors += 1
            return
        with lock:
            errors += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, range(runs)))
    return Burst(runs=runs, errors=errors, seconds=time.perf_counter() - began, shed=shed)


# --- DBOS -----------------------------------------------------------------------------------


def dbos(plan: Plan, url: str) -> Figures:
    home = peers_dir()
    python = home / "venv" / "bin" / "python"
    marker = home / "venv" / "installed.txt"
    if not marker.exists() or marker.read_text() != " ".join(DBOS_REQUIREMENTS):
        print("Installing", *DBOS_REQUIREMENTS, "into", home / "venv", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(home / "venv")], check=True)
        subprocess.run([str(python), "-m", "pip", "install", "-q", *DBOS_REQUIREMENTS], check=True)
        marker.write_text(" ".join(DBOS_REQUIREMENTS))
    database = _fresh_database("flowbuilder_peer_dbos")
    env = {
        **os.environ,
        "DBOS_DATABASE_URL": database,
        "TARGET": url,
        "W40_RUNS": str(plan.w40_runs),
        "W3_RUNS": str(plan.w3_runs),
        "BURST_RUNS": str(plan.burst_runs),
        "CONCURRENCY": "4",
    }
    script = Path(__file__).with_name("peer_dbos.py")
    done = subprocess.run([str(python), str(script)], env=env, capture_output=True, text=True, timeout=1800)
    if done.returncode != 0:
        raise RuntimeError(f"DBOS exited {done.returncode}: {done.stderr[-2000:]}")
    data = json.loads(done.stdout.strip().splitlines()[-1])
    figures = Figures("DBOS", data["w40_http"], data["w40_transform"], data["w40_script"], data["w3"])
    figures.burst = Burst(**data["burst"])
    figures.notes.append("DBOS: W3 is an in-process call; the burst goes through a queue of concurrency 4")
    return figures


def _fresh_database(name: str) -> str:
    import psycopg
    from psycopg import sql

    base = os.environ["DATABASE_URL"]
    admin = base.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin.replace("postgres://", "postgresql://", 1), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return base.rsplit("/", 1)[0].replace("postgres://", "postgresql://", 1) + "/" + name


# --- n8n ------------------------------------------------------------------------------------


def n8n(plan: Plan, url: str) -> Figures:
    home = peers_dir() / "n8n"
    binary = home / "node_modules" / ".bin" / "n8n"
    marker = home / "installed.json"
    if not binary.exists() or not marker.exists() or json.loads(marker.read_text()) != N8N_PACKAGE:
        print("Installing n8n", N8N_PACKAGE["dependencies"]["n8n"], "into", home, "(a few minutes)", flush=True)
        home.mkdir(parents=True, exist_ok=True)
        (home / "package.json").write_text(json.dumps(N8N_PACKAGE))
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--loglevel=error"], cwd=home, check=True)
        marker.write_text(json.dumps(N8N_PACKAGE))
    database = _fresh_database("flowbuilder_peer_n8n").rsplit("/", 1)[1]
    port = free_port()
    (home / "home").mkdir(exist_ok=True)
    env = {
        **os.environ,
        "N8N_USER_FOLDER": str(home / "home"),
        "N8N_PORT": str(port),
        "N8N_LISTEN_ADDRESS": "127.0.0.1",
        "N8N_DIAGNOSTICS_ENABLED": "false",
        "N8N_VERSION_NOTIFICATIONS_ENABLED": "false",
        "N8N_TEMPLATES_ENABLED": "false",
        "N8N_RUNNERS_ENABLED": "false",
        "N8N_SECURE_COOKIE": "false",
        "EXECUTIONS_DATA_SAVE_ON_SUCCESS": "all",
        "DB_TYPE": "postgresdb",
        "DB_POSTGRESDB_HOST": "127.0.0.1",
        "DB_POSTGRESDB_DATABASE": database,
        "DB_POSTGRESDB_USER": "postgres",
    }
    log = (home / "n8n.log").open("wb")
    process = subprocess.Popen(
        [str(binary), "start"], cwd=home, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_ready(base, process)
        return _n8n_workloads(base, plan, url)
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _wait_ready(base: str, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"n8n exited ({process.returncode})")
        try:
            if httpx.get(f"{base}/healthz/readiness", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(1)
    raise RuntimeError("n8n did not become ready in 300 s")


def _n8n_node(name: str, kind: str, version: float, parameters: dict[str, Any], x: int) -> dict[str, Any]:
    return {
        "id": str(uuid.uuid4()),
        "name": name,
        "type": kind,
        "typeVersion": version,
        "position": [x * 200, 0],
        "parameters": parameters,
    }


def _n8n_workflow(path: str, steps: list[dict[str, Any]]) -> dict[str, Any]:
    hook = _n8n_node(
        "Webhook",
        "n8n-nodes-base.webhook",
        2,
        {"path": path, "httpMethod": "GET", "responseMode": "lastNode", "responseData": "firstEntryJson"},
        0,
    )
    hook["webhookId"] = str(uuid.uuid4())
    nodes = [hook, *steps]
    connections = {
        a["name"]: {"main": [[{"node": b["name"], "type": "main", "index": 0}]]} for a, b in itertools.pairwise(nodes)
    }
    return {
        "name": path,
        "active": False,
        "nodes": nodes,
        "connections": connections,
        "settings": {"executionOrder": "v1"},
    }


def _n8n_set(index: int) -> dict[str, Any]:
    assignment = {"id": str(uuid.uuid4()), "name": "v", "value": index, "type": "number"}
    return _n8n_node(
        f"Set {index}",
        "n8n-nodes-base.set",
        3.4,
        {"assignments": {"assignments": [assignment]}, "options": {}},
        index + 1,
    )


def _n8n_workloads(base: str, plan: Plan, url: str) -> Figures:
    admin = httpx.Client(base_url=base, timeout=120)
    email, password = "peers@example.com", "Peers-bench-2026"
    for _ in range(120):  # the REST routes come up a little after readiness
        response = admin.post(
            "/rest/owner/setup", json={"email": email, "firstName": "P", "lastName": "B", "password": password}
        )
        if response.status_code != 404:
            break
        time.sleep(1)
    response.raise_for_status()
    tag = uuid.uuid4().hex[:6]
    flows = {
        "http": [
            _n8n_node(f"GET {i}", "n8n-nodes-base.httpRequest", 4.2, {"url": url, "options": {}}, i + 1)
            for i in range(40)
        ],
        "set": [_n8n_set(i) for i in range(40)],
        "code": [_n8n_node(f"Code {i}", "n8n-nodes-base.code", 2, {"jsCode": N8N_FIB}, i + 1) for i in range(40)],
        "three": [_n8n_set(0), _n8n_set(1), _n8n_set(2)],
    }
    for name, steps in flows.items():
        created = admin.post("/rest/workflows", json=_n8n_workflow(f"{name}{tag}", steps))
        created.raise_for_status()
        data = created.json()["data"]
        admin.post(f"/rest/workflows/{data['id']}/activate", json={"versionId": data["versionId"]}).raise_for_status()
    hooks = httpx.Client(base_url=base, timeout=120)

    def run(name: str, client: httpx.Client = hooks) -> None:
        client.get(f"/webhook/{name}{tag}").raise_for_status()

    figures = Figures("n8n")
    figures.w40_http = timed(lambda: run("http"), plan.w40_runs)
    figures.w40_transform = timed(lambda: run("set"), plan.w40_runs)
    figures.w40_script = timed(lambda: run("code"), plan.w40_runs)
    figures.w3 = timed(lambda: run("three"), plan.w3_runs)
    errors = 0
    lock = threading.Lock()
    local = threading.local()

    def one(_: int) -> None:
        nonlocal errors
        if not hasattr(local, "client"):
            local.client = httpx.Client(base_url=base, timeout=120)
        try:
            run("three", local.client)
        except httpx.HTTPError:
            with lock:
                errors += 1

    began = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        list(pool.map(one, range(plan.burst_runs)))
    figures.burst = Burst(runs=plan.burst_runs, errors=errors, seconds=time.perf_counter() - began)
    figures.notes.append("n8n: regular mode, one process; a run is saved once, at its end; W3 through a webhook")
    return figures


# --- the table ------------------------------------------------------------------------------


def print_table(systems: list[Figures]) -> None:
    ours = systems[0]
    peers = systems[1:]
    rows = [
        ("W40-http (ms per run)", "w40_http"),
        ("W40 transforms (ms)", "w40_transform"),
        ("W40 fib(10) scripts (ms)", "w40_script"),
        ("W3 submit → done (ms)", "w3"),
    ]
    names = [s.name for s in systems]
    header = f"{'workload':<26}" + "".join(f"{n:>13}" for n in names) + "".join(f"{'÷ ' + p.name:>13}" for p in peers)
    print(header)
    print("-" * len(header))
    for label, attr in rows:
        values = [median_ms(getattr(s, attr)) for s in systems]
        cells = "".join(f"{v:>13.1f}" if v is not None else f"{'—':>13}" for v in values)
        ratios = "".join(
            f"{values[0] / v:>12.2f}x" if v and values[0] is not None else f"{'—':>13}" for v in values[1:]
        )
        print(f"{label:<26}{cells}{ratios}")
    per_step = [median_ms(s.w40_http) for s in systems]
    cells = "".join(f"{v / 40:>13.2f}" if v is not None else f"{'—':>13}" for v in per_step)
    print(f"{'  per GET step (ms)':<26}{cells}")
    bursts = [s.burst for s in systems]
    cells = "".join(f"{b.per_second:>13.1f}" if b else f"{'—':>13}" for b in bursts)
    ratios = "".join(
        f"{bursts[0].per_second / b.per_second:>12.2f}x" if b and bursts[0] else f"{'—':>13}" for b in bursts[1:]
    )
    print(f"{'burst (runs/s)':<26}{cells}{ratios}")
    errors = "".join(f"{b.errors:>13}" if b else f"{'—':>13}" for b in bursts)
    print(f"{'burst errors':<26}{errors}")
    if ours.burst:
        print(f"{'burst shed (429/503)':<26}{ours.burst.shed:>13}")
    print()
    print("Ratios are ours divided by the peer's: below 1.00x we are faster on time rows, above 1.00x on runs/s.")
    for system in systems:
        for note in system.notes:
            print(f"- {note}")


def main(*, quick: bool = False) -> int:
    plan = Plan.for_mode(quick=quick)
    os.environ.setdefault("FLOWBUILDER_HTTP_ALLOWLIST", "127.0.0.1")
    os.environ["RATE_LIMIT_ENABLED"] = "false"  # the engine is measured, not the limiter
    infra.configure_environment()
    infra.ensure_database(os.environ["DATABASE_URL"])
    infra.setup_django()
    infra.purge_queues()
    print(_machine(), flush=True)
    server = infra.start_http_server()
    url = infra.server_url(server)
    try:
        ours, raw = flowbuilder(plan, url)
        print("Flowbuilder done;", _machine(), flush=True)
        dbos_figures = dbos(plan, url)
        print("DBOS done;", _machine(), flush=True)
        n8n_figures = n8n(plan, url)
        print("n8n done;", _machine(), flush=True)
    finally:
        server.shutdown()
    print()
    print_table([ours, dbos_figures, n8n_figures, raw])
    return 0


def _machine() -> str:
    return f"{os.cpu_count()} cores, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
