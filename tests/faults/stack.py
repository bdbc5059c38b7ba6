"""A whole production-shaped Flowbuilder on private services, for killing its parts.

A private PostgreSQL (``initdb`` in a temporary directory, its own port) and a
private Redis (broker, cache, channel layer), a uvicorn server, Celery workers
and beat as subprocesses, and a counting HTTP receiver in the test process for
the side effects. The shared services of the machine are never touched.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import psycopg

from tests.executions.live.helpers import free_port

ROOT = Path(__file__).resolve().parents[2]
PG_BIN = max(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda path: int(path.parent.name))


def _as_postgres(command: list[Any]) -> list[str]:
    """PostgreSQL refuses to run as root: under root, run it as ``postgres``."""
    command = [str(part) for part in command]
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


def wait_until(predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.2) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = predicate()
        except (httpx.HTTPError, psycopg.Error):
            value = None
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


class PrivatePostgres:
    def __init__(self) -> None:
        self.dir = Path(tempfile.mkdtemp(prefix="fb-pg-"))
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.data = self.dir / "data"
        self.port = free_port()
        subprocess.run(
            _as_postgres(
                [PG_BIN / "initdb", "-D", self.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8"]
            ),
            check=True,
            capture_output=True,
        )
        self.start()
        with psycopg.connect(self.admin_url, autocommit=True) as connection:
            connection.execute("CREATE DATABASE flowbuilder")

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/flowbuilder"

    def _ctl(self, *args: Any) -> None:
        subprocess.run(_as_postgres([PG_BIN / "pg_ctl", "-D", self.data, *args]), check=True, capture_output=True)

    def start(self) -> None:
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        self._ctl("-o", options, "-l", self.dir / "server.log", "-w", "start")

    def stop(self, mode: str = "fast") -> None:
        """``fast``: a clean shutdown that ends every session; ``immediate``: a crash, recovered from WAL at start."""
        self._ctl("-m", mode, "-w", "stop")

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.url.replace("postgres://", "postgresql://"), autocommit=True) as connection:
            return connection.execute(sql, params).fetchall()

    def close(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):  # already down
            self.stop("immediate")
        shutil.rmtree(self.dir, ignore_errors=True)


class PrivateRedis:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(
            lambda: subprocess.run(["redis-cli", "-p", str(self.port), "ping"], capture_output=True).stdout, 10, "redis"
        )

    def kill(self) -> None:
        """SIGKILL: what it held (queued messages, the cache, channel-layer groups) is gone."""
        assert self.process is not None
        self.process.kill()
        self.process.wait(10)

    def close(self) -> None:
        if self.process and self.process.poll() is None:
            self.kill()


class PrivateVhost:
    """A RabbitMQ virtual host of its own on the machine's RabbitMQ (127.0.0.1:5672)."""

    def __init__(self) -> None:
        self.name = f"fb-faults-{uuid.uuid4().hex[:8]}"
        self._ctl("add_vhost", self.name)
        self._ctl("set_permissions", "-p", self.name, "guest", ".*", ".*", ".*")

    @property
    def url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:5672/{self.name}"

    @staticmethod
    def _ctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", *args], check=True, capture_output=True, timeout=60)

    def close(self) -> None:
        self._ctl("delete_vhost", self.name)


class Receiver:
    """An HTTP server counting the requests made to each path: the side effects of steps."""

    def __init__(self) -> None:
        self.hits: Counter[str] = Counter()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                receiver.hits[self.path] += 1
                body = json.dumps({"path": self.path, "n": int(self.path.rsplit("/", 1)[-1])}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()


class Stack:
    """Flowbuilder in production shape on private services: ``server``, ``workers``, ``beat``."""

    def __init__(self, logs: Path, broker: str = "redis") -> None:
        self.logs = logs
        self.postgres = PrivatePostgres()
        self.redis = PrivateRedis()
        self.receiver = Receiver()
        self.rabbitmq = PrivateVhost() if broker == "rabbitmq" else None
        self.broker_url = self.rabbitmq.url if self.rabbitmq else self.redis.url
        self.env = {
            **os.environ,
            "DATABASE_URL": self.postgres.url,
            "REDIS_URL": self.redis.url,
            "CELERY_BROKER_URL": self.broker_url,
            "SECRET_KEY": "fault-tests-" + "k" * 40,
            "FLOWBUILDER_EMBEDDED_WORKER": "false",
            "FLOWBUILDER_DATA_DIR": str(logs / "data"),
            "FLOWBUILDER_STEP_LEASE_SECONDS": "3",
            "FLOWBUILDER_SWEEP_INTERVAL_SECONDS": "1",
            "FLOWBUILDER_REQUEUE_AFTER_SECONDS": "3",
            "FLOWBUILDER_HTTP_ALLOWLIST": "127.0.0.1",
            "FLOWBUILDER_EXTRA_NODE_MODULES": "tests.executions.nodes",
            "RATE_LIMIT_ENABLED": "false",
            "PYTHONPATH": str(ROOT),
        }
        self.manage("migrate", "--no-input")
        self.api_key = self.manage("shell", "-c", _MAKE_KEY).strip().splitlines()[-1]
        self.server: subprocess.Popen[bytes] | None = None
        self.workers: list[subprocess.Popen[bytes]] = []
        self.beat: subprocess.Popen[bytes] | None = None
        self.base = ""

    # --- processes -----------------------------------------------------------------------------

    def manage(self, *args: str) -> str:
        done = subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, capture_output=True, text=True, timeout=300
        )
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    def _spawn(self, name: str, command: list[str]) -> subprocess.Popen[bytes]:
        log = (self.logs / f"{name}.log").open("ab")
        return subprocess.Popen(
            command, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )

    def start_server(self) -> None:
        """uvicorn, on the port it had before if it ran already (clients reconnect to the same address)."""
        port = int(self.base.rsplit(":", 1)[1]) if self.base else free_port()
        self.server = self._spawn(
            "server",
            [sys.executable, "-m", "uvicorn", "flowbuilder.asgi:application", "--port", str(port), "--lifespan", "on"],
        )
        self.base = f"http://127.0.0.1:{port}"
        wait_until(lambda: httpx.get(f"{self.base}/openapi.json", timeout=5).status_code == 200, 60, "the server")

    def start_workers(self, count: int = 2) -> None:
        for index in range(count):
            command = [
                sys.executable, "-m", "celery", "-A", "flowbuilder", "worker", "--pool", "prefork",
                "--concurrency", "2", "-Q", "default,steps", "--without-gossip", "--without-mingle",
                "-l", "INFO", "-n", f"fault{index}-{os.getpid()}@%h",
            ]  # fmt: skip
            self.workers.append(self._spawn(f"worker{index}", command))

    def start_beat(self) -> None:
        command = [
            sys.executable, "-m", "celery", "-A", "flowbuilder", "beat", "-l", "INFO",
            "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
        ]  # fmt: skip
        self.beat = self._spawn("beat", command)

    @staticmethod
    def kill(process: subprocess.Popen[bytes] | None, sig: int = signal.SIGKILL) -> None:
        if process is not None and process.poll() is None:
            os.killpg(process.pid, sig)
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(10)

    def kill_workers(self) -> None:
        for worker in self.workers:
            self.kill(worker)
        self.workers = []

    def close(self) -> None:
        self.kill(self.server, signal.SIGTERM)
        self.kill(self.beat, signal.SIGTERM)
        for worker in self.workers:
            self.kill(worker, signal.SIGTERM)
        self.receiver.close()
        self.redis.close()
        if self.rabbitmq:
            self.rabbitmq.close()
        self.postgres.close()

    def log_tail(self, chars: int = 4000) -> str:
        return "\n".join(
            f"== {path.name}\n{path.read_text(errors='replace')[-chars:]}" for path in self.logs.glob("*.log")
        )

    # --- the API -------------------------------------------------------------------------------

    def api(self, method: str, path: str, *, headers: dict[str, str] | None = None, **kwargs: Any) -> httpx.Response:
        headers = {"X-API-Key": self.api_key, **(headers or {})}
        return httpx.request(method, f"{self.base}/api/v1{path}", headers=headers, timeout=30, **kwargs)

    def create_workflow(self, definition: dict[str, Any], name: str = "faults") -> str:
        response = self.api("POST", "/workflows", json={"name": name, "definition": definition})
        assert response.status_code == 201, response.text
        return response.json()["id"]

    def execute(self, workflow_id: str, input_data: dict[str, Any]) -> str:
        """Submit a run; a 503 (the service said "come back") is retried with the same idempotency key."""
        key = f"fault-{workflow_id}-{json.dumps(input_data, sort_keys=True)}"
        for _ in range(60):
            try:
                response = self.api(
                    "POST",
                    f"/workflows/{workflow_id}/execute",
                    json={"input_data": input_data},
                    headers={"Idempotency-Key": key},
                )
            except httpx.TransportError:
                time.sleep(0.5)
                continue
            if response.status_code == 503:
                time.sleep(float(response.headers.get("Retry-After", "1")))
                continue
            assert response.status_code in (200, 202), response.text  # 200: a replay of the same key
            return response.json()["execution_id"]
        raise AssertionError("the server never accepted the run")

    def runs(self, ids: list[str]) -> dict[str, tuple[str, Any]]:
        """Each run's (status, output) straight from the database."""
        rows = self.postgres.query(
            "SELECT id::text, status, output_data FROM executions_execution WHERE id::text = ANY(%s)", ids
        )
        return {row[0]: (row[1], row[2]) for row in rows}

    def attempts(self, ids: list[str], node_id: str) -> dict[str, int]:
        rows = self.postgres.query(
            "SELECT execution_id::text, attempt FROM executions_steprun WHERE node_id = %s AND execution_id::text = ANY(%s)",
            node_id,
            ids,
        )
        return dict(rows)

    def wait_all_finished(self, ids: list[str], timeout: float) -> dict[str, tuple[str, Any]]:
        finished = ("completed", "failed", "cancelled", "timed_out")

        def done() -> dict[str, tuple[str, Any]] | None:
            runs = self.runs(ids)
            return runs if len(runs) == len(ids) and all(status in finished for status, _ in runs.values()) else None

        return wait_until(done, timeout, f"{len(ids)} runs to finish", interval=0.5)


_MAKE_KEY = """
from django.contrib.auth.models import Group
from accounts.models import User
from accounts.roles import DEFAULT_ROLE
from accounts.services import api_key_create
user = User.objects.create_user(email="faults@example.com", password="x" * 16)
user.groups.add(Group.objects.get(name=DEFAULT_ROLE))
_, raw = api_key_create(user=user, granted=user.api_permissions, name="faults")
print(raw)
"""
