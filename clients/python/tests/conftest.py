"""The SDK's tests run against a live Flowbuilder server: set ``FLOWBUILDER_URL`` (the repository's
``tests/clients/test_sdks.py`` starts one in production shape and runs these with it)."""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

from flowbuilder_client import Flowbuilder

PASSWORD = "correct-horse-battery-9"


def pytest_configure(config: pytest.Config) -> None:
    if not os.environ.get("FLOWBUILDER_URL"):
        raise pytest.UsageError("Set FLOWBUILDER_URL to a running Flowbuilder server (e.g. `make run`'s)")


def simple_definition() -> dict[str, Any]:
    """manual trigger → transform (doubles input.n) → output."""
    return {
        "nodes": [
            {"id": "start", "type": "trigger.manual", "name": "Start", "config": {}},
            {"id": "double", "type": "transform", "name": "Double", "config": {"value": "{{ input.n * 2 }}"}},
            {
                "id": "out",
                "type": "output",
                "name": "Out",
                "config": {"value": {"result": "{{ steps.double.output }}"}},
            },
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "double"},
            {"id": "e2", "source": "double", "target": "out"},
        ],
    }


def slow_definition(seconds: int = 1) -> dict[str, Any]:
    """manual trigger → delay → output: a run that is still going when a client looks."""
    return {
        "nodes": [
            {"id": "start", "type": "trigger.manual", "name": "Start", "config": {}},
            {"id": "pause", "type": "delay", "name": "Pause", "config": {"seconds": seconds}},
            {"id": "out", "type": "output", "name": "Out", "config": {"value": {"done": True}}},
        ],
        "edges": [
            {"id": "e1", "source": "start", "target": "pause"},
            {"id": "e2", "source": "pause", "target": "out"},
        ],
    }


def new_account() -> tuple[str, str]:
    """A fresh user on the server: (email, access token)."""
    fb = Flowbuilder(max_retries=0)
    email = f"sdk-{uuid.uuid4().hex[:12]}@example.com"
    fb.auth.register(email, PASSWORD, first_name="Sdk")
    pair = fb.auth.login(email, PASSWORD)
    fb.close()
    return email, pair.access_token


@pytest.fixture
def account() -> tuple[str, str]:
    return new_account()


@pytest.fixture
def fb(account: tuple[str, str]) -> Iterator[Flowbuilder]:
    with Flowbuilder(token=account[1]) as client:
        yield client


@dataclass
class Stub:
    """A real HTTP server on loopback answering scripted responses and recording what it was sent."""

    answers: list[tuple[int, dict[str, str], Any]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    url: str = ""


@pytest.fixture
def stub() -> Iterator[Stub]:
    state = Stub(answers=[])

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            state.requests.append(
                {"method": self.command, "path": self.path, "headers": dict(self.headers), "body": body}
            )
            status, headers, payload = state.answers.pop(0) if state.answers else (500, {}, {"error": {}})
            data = json.dumps(payload).encode()
            self.send_response(status)
            for key, value in {"Content-Type": "application/json", **headers}.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = _answer

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield state
    server.shutdown()
    server.server_close()
