"""What the bench runs against: the database, Django, a local HTTP server and real Celery worker processes.

Nothing here imports Django models at module level: :func:`setup_django` must run first.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/flowbuilder_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/9"
NODE_MODULE = "bench.nodes"
WORKER_START_TIMEOUT = 60.0


# --- environment, database, Django -----------------------------------------------------


def configure_environment() -> None:
    """Defaults for this process and the workers it starts (they inherit ``os.environ``)."""
    os.environ.setdefault("DATABASE_URL", DEFAULT_DATABASE_URL)
    os.environ.setdefault("REDIS_URL", DEFAULT_REDIS_URL)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbuilder.settings")
    modules = [m for m in os.environ.get("FLOWBUILDER_EXTRA_NODE_MODULES", "").split(",") if m]
    if NODE_MODULE not in modules:
        os.environ["FLOWBUILDER_EXTRA_NODE_MODULES"] = ",".join([*modules, NODE_MODULE])
    paths = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(ROOT) not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), *paths])
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


def ensure_database(url: str) -> None:
    """Create the database named in ``url`` if it does not exist (connecting to ``postgres`` on that server)."""
    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_dsn = parts._replace(scheme="postgresql", path="/postgres").geturl()
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
            print(f"Created database {name}")


def setup_django() -> None:
    """django.setup(), migrate, and the table the raw round-trip baseline writes to."""
    import django
    from django.core.management import call_command
    from django.db import connection

    from bench.tasks import PING_TABLE

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {PING_TABLE} (token text PRIMARY KEY, at double precision NOT NULL)"
        )


def purge_queues() -> None:
    """Drop messages an interrupted earlier bench run left in its own broker (only the default bench Redis DB).

    On another broker (``make bench`` passes the test suite's), purging could drop someone else's tasks.
    """
    from flowbuilder.celery import app

    if os.environ["REDIS_URL"] == DEFAULT_REDIS_URL:
        app.control.purge()
    else:
        print(f"Not purging {os.environ['REDIS_URL']}: not the bench's own Redis DB; its workers share its queues.")


# --- the local HTTP server ---------------------------------------------------------------


class _OkHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, so a reused client reuses its connection
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/plain")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, format: str, *args: object) -> None:  # quiet
        return


def start_http_server() -> ThreadingHTTPServer:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _OkHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="bench-http", daemon=True).start()
    return server


def server_url(server: ThreadingHTTPServer) -> str:
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"


# --- Celery worker processes ---------------------------------------------------------------


@dataclass
class Worker:
    name: str
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def child_pids(self) -> list[int]:
        """The prefork pool's process(es): the ones that run tasks (for py-spy)."""
        path = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        try:
            return [int(pid) for pid in path.read_text().split()]
        except OSError:
            return []


def worker_command(name: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "flowbuilder",
        "worker",
        "--pool",
        "prefork",
        "--concurrency",
        "1",
        "-Q",
        "default,steps",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "-l",
        "WARNING",
        "-n",
        name,
        "-I",
        "bench.tasks",
    ]


def start_worker(index: int) -> Worker:
    """Start one worker process (prefork, concurrency 1) and wait until it answers a ping."""
    name = f"bench{index}@{socket.gethostname()}"
    log_path = Path(tempfile.gettempdir()) / f"flowbuilder-bench-worker{index}.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            worker_command(name),
            cwd=ROOT,
            env=os.environ.copy(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: stopped with its pool child
        )
    worker = Worker(name=name, process=process, log_path=log_path)
    _wait_for_ping(worker)
    return worker


def _wait_for_ping(worker: Worker) -> None:
    from flowbuilder.celery import app

    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if worker.process.poll() is not None:
            raise RuntimeError(f"Worker {worker.name} exited ({worker.process.returncode}); see {worker.log_path}")
        if app.control.ping(destination=[worker.name], timeout=0.5):
            return
    stop_worker(worker)
    raise RuntimeError(
        f"Worker {worker.name} did not answer a ping in {WORKER_START_TIMEOUT:.0f}s; see {worker.log_path}"
    )


def stop_worker(worker: Worker, timeout: float = 15.0) -> None:
    """Warm shutdown (SIGTERM to its process group), then SIGKILL if it lingers."""
    if worker.process.poll() is not None:
        return
    os.killpg(worker.process.pid, signal.SIGTERM)
    try:
        worker.process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(worker.process.pid, signal.SIGKILL)
        worker.process.wait()


# --- the ASGI server ------------------------------------------------------------------------


@dataclass
class AsgiServer:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    @property
    def ws_url(self) -> str:
        return self.base_url.replace("http://", "ws://", 1)


def start_asgi_server(*, processes: int = 1) -> AsgiServer:
    """uvicorn serving flowbuilder.asgi on a free port (``processes`` > 1: uvicorn's worker processes)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    log_path = Path(tempfile.gettempdir()) / "flowbuilder-bench-asgi.log"
    command = [sys.executable, "-m", "uvicorn", "flowbuilder.asgi:application", "--port", str(port)]
    command += ["--lifespan", "on", "--log-level", "warning", "--no-access-log", "--workers", str(processes)]
    env = {**os.environ, "FLOWBUILDER_EMBEDDED_WORKER": "false", "LOG_LEVEL": "WARNING"}
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = AsgiServer(process=process, base_url=f"http://127.0.0.1:{port}", log_path=log_path)
    import httpx

    deadline = time.monotonic() + WORKER_START_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"The ASGI server exited ({process.returncode}); see {log_path}")
        try:
            if httpx.get(f"{server.base_url}/api/v1/monitoring/health", timeout=1).status_code == 200:
                return server
        except httpx.TransportError:
            time.sleep(0.2)
    stop_asgi_server(server)
    raise RuntimeError(f"The ASGI server did not answer in {WORKER_START_TIMEOUT:.0f}s; see {log_path}")


def stop_asgi_server(server: AsgiServer, timeout: float = 15.0) -> None:
    if server.process.poll() is not None:
        return
    os.killpg(server.process.pid, signal.SIGTERM)
    try:
        server.process.wait(timeout)
    except subprocess.TimeoutExpired:
        os.killpg(server.process.pid, signal.SIGKILL)
        server.process.wait()
