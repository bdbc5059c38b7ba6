"""Real HTTP receivers on loopback for the outgoing webhooks, and helpers to check what they got.

* ``receiver`` (127.0.0.1, allow-listed through FLOWBUILDER_HTTP_ALLOWLIST): answers each path
  as the test scripts it (``receiver.script("/flaky", [500, 200])``: 500 first, then 200 for
  ever; unscripted paths answer 200; 0 answers too late; a 3xx points at ``redirect_to``) and
  records every request with its raw body;
* ``forbidden`` (127.0.0.2, not allow-listed): must never be reached; the fixture fails the
  test if it was.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from tests.integrations.servers import BaseHandler, RecordingServer


@dataclass
class Hit:
    path: str
    headers: dict[str, str]
    raw: bytes
    answered: int
    received_at: float = field(default_factory=time.time)

    @property
    def json(self) -> Any:
        return json.loads(self.raw)


class ReceiverHandler(BaseHandler):
    server: Receiver

    def handle_any(self) -> None:
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        path = self.path.split("?", 1)[0]
        with self.server.lock:
            queue = self.server.scripts.get(path)
            status = (queue.pop(0) if len(queue) > 1 else queue[0]) if queue else 200
            self.server.received.append(
                Hit(path=path, headers={k.lower(): v for k, v in self.headers.items()}, raw=raw, answered=status)
            )
        if status == 0:  # "hang": answer after the client has given up
            time.sleep(self.server.hang_seconds)
            status = 200
        headers = {"Location": self.server.redirect_to} if 300 <= status < 400 else {}
        body = b"" if status in (204, 304) else {"received": True, "status": status}  # those have no body
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up (a timeout test)
            self._send(status, body, headers=headers)


class Receiver(RecordingServer):
    def __init__(self, host: str) -> None:
        self.scripts: dict[str, list[int]] = {}
        self.received: list[Hit] = []
        self.hang_seconds = 3.0
        self.redirect_to = ""
        super().__init__((host, 0), ReceiverHandler)

    def script(self, path: str, statuses: list[int]) -> str:
        """Answer ``path`` with these statuses in turn (the last one for ever); answers its URL."""
        with self.lock:
            self.scripts[path] = list(statuses)
        return self.url(path)

    def got(self, path: str | None = None) -> list[Hit]:
        with self.lock:
            return [h for h in self.received if path is None or h.path == path]

    def clear(self) -> None:
        with self.lock:
            self.scripts.clear()
            self.received.clear()
            self.redirect_to = ""


@pytest.fixture(scope="session")
def _receiver() -> Iterator[Receiver]:
    server = Receiver("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _forbidden() -> Iterator[Receiver]:
    server = Receiver("127.0.0.2")
    yield server
    server.stop()


@pytest.fixture
def receiver(_receiver, settings) -> Iterator[Receiver]:
    _receiver.clear()
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]
    yield _receiver
    _receiver.clear()


@pytest.fixture
def forbidden(_forbidden) -> Iterator[Receiver]:
    _forbidden.clear()
    yield _forbidden
    assert _forbidden.got() == [], "the receiver on 127.0.0.2 (not allow-listed) was reached"


def verify_signature(secret: str, hit: Hit, tolerance: int = 300) -> dict[str, Any]:
    """Check a delivery as a receiver would (independently of webhooks.signing); answers the payload."""
    header = hit.headers["x-flowbuilder-signature"]
    parts = dict(part.split("=", 1) for part in header.split(","))
    assert set(parts) == {"t", "v1"}, header
    expected = hmac.new(secret.encode(), parts["t"].encode() + b"." + hit.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(expected, parts["v1"]), "bad signature"
    assert abs(time.time() - int(parts["t"])) < tolerance
    payload = hit.json
    assert set(payload) == {"event", "data", "timestamp", "delivery_id"}
    assert hit.headers["x-flowbuilder-event"] == payload["event"]
    assert hit.headers["x-flowbuilder-delivery"] == payload["delivery_id"]
    assert hit.headers["content-type"] == "application/json"
    return payload
