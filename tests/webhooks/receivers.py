"""A real HTTP receiver on loopback that answers as a test scripts it and records what it got."""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass, field
from typing import Any

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
