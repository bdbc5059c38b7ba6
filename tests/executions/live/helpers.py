"""Live-update helpers: starting a run, tokens, a websocket client on the real ASGI app, a uvicorn server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from channels.testing import WebsocketCommunicator
from django.conf import settings
from django.db import transaction

from accounts.services import token_pair_issue
from executions.models import Execution
from executions.services import execution_start
from flowbuilder.asgi import application
from tests.engine_fixtures import wait_finished, wait_for, wait_status  # noqa: F401  (re-exported for the tests)

ROOT = Path(__file__).resolve().parents[3]
RECEIVE_TIMEOUT = 20


def token_for(user) -> str:
    return token_pair_issue(user=user).access_token


def start(workflow, input_data=None) -> Execution:
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data=input_data or {})
    return execution


class Socket:
    """A websocket client on the ASGI application (through the origin check and the router)."""

    def __init__(self, path: str, *, subprotocols: list[str] | None = None, headers: list | None = None) -> None:
        self.communicator = WebsocketCommunicator(application, path, subprotocols=subprotocols, headers=headers)
        self.subprotocol: str | None = None

    async def __aenter__(self) -> Socket:
        connected, self.subprotocol = await self.communicator.connect(timeout=RECEIVE_TIMEOUT)
        assert connected
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.communicator.disconnect()  # cancels a consumer still in a blocking read after 1 s

    async def receive(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        return await self.communicator.receive_json_from(timeout=timeout)

    async def receive_update(self, timeout: float = RECEIVE_TIMEOUT) -> dict[str, Any]:
        """The next message that is not a heartbeat."""
        while True:
            message = await self.receive(timeout)
            if message["type"] != "ping":
                return message

    async def until_run_ends(self, execution_id: Any = None) -> list[dict[str, Any]]:
        """Updates up to and including the end of the run (of ``execution_id`` if given)."""
        messages = []
        while True:
            message = await self.receive_update()
            messages.append(message)
            if message["type"] in ("execution_completed", "execution_failed") and (
                execution_id is None or message["execution_id"] == str(execution_id)
            ):
                return messages

    async def close_code(self) -> int:
        output = await self.communicator.receive_output(timeout=RECEIVE_TIMEOUT)
        assert output["type"] == "websocket.close", output
        return output["code"]

    async def send(self, content: dict[str, Any]) -> None:
        await self.communicator.send_json_to(content)

    async def nothing(self, timeout: float = 0.5) -> bool:
        return await self.communicator.receive_nothing(timeout=timeout)


# --- a real ASGI server on the test database ------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def database_url() -> str:
    from django.db import connection

    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_server(
    env: dict[str, str], log_path: Path, *, ready_path: str = "/api/v1/monitoring/health"
) -> tuple[subprocess.Popen[bytes], str]:
    """uvicorn on ``env``, once ``ready_path`` answers 200 (the health check needs every critical dependency)."""
    port = free_port()
    with log_path.open("wb") as log:
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
        if server.poll() is not None:
            break
        try:
            if httpx.get(f"{base}{ready_path}", timeout=1).status_code == 200:
                return server, base
        except httpx.TransportError:
            time.sleep(0.2)
    server.kill()
    pytest.fail(log_path.read_text())


def server_env(**extra: str) -> dict[str, str]:
    """A server subprocess's environment: the test database and the tests' Redis, no embedded worker."""
    return {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "FLOWBUILDER_EMBEDDED_WORKER": "false",
        "CONN_MAX_AGE": "0",  # the tests' flushes and the final DROP DATABASE need idle connections closed
        **extra,
    }


@contextmanager
def running_server(
    env: dict[str, str], log_path: Path, *, ready_path: str = "/api/v1/monitoring/health"
) -> Iterator[str]:
    """``start_server``'s base URL while the block runs; the server is stopped after it."""
    server, base = start_server(env, log_path, ready_path=ready_path)
    try:
        yield base
    finally:
        server.terminate()
        try:
            server.wait(10)
        except subprocess.TimeoutExpired:  # a socket the server still waits on to close
            server.kill()
            server.wait(10)
