"""Load shedding: a web process that already has enough requests in flight answers 503 at once.

Under ASGI every request to a sync view gets its own thread, so nothing bounds how many a
process takes on: past its capacity they queue, each one slower than the last, until clients
time out (a ramp to 300 requests/s had p99s of 20 s). Past ``FLOWBUILDER_MAX_CONCURRENT_REQUESTS``
HTTP requests in flight in this process, a new one is answered ``503 SERVICE_UNAVAILABLE`` with
``Retry-After`` in the SPEC's envelope (``reason: OVERLOADED``) without touching the database: it
was not accepted, so nothing is lost, and the client knows when to come back. The health check
and the metrics are always answered, static files are neither refused nor counted. Websockets are not counted (they are long-lived by design),
nor is a request while it waits for a run (:func:`waiting`: a ``sync`` execute, a ``when_done``
webhook): it uses no CPU then, and the limit is about CPU (the GIL makes a process's throughput
flat past a few busy threads, while each one more adds latency to all).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings

from flowbuilder.api.errors import error_body

logger = logging.getLogger(__name__)

ALWAYS_ANSWERED = ("/api/v1/monitoring/health", "/metrics")
OVERLOADED_MESSAGE = "The server is at capacity; retry shortly"


class _Busy:
    """HTTP requests of this process doing work now (changed from the loop and from request threads)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.count = 0

    def add(self, delta: int) -> None:
        with self._lock:
            self.count += delta


_busy = _Busy()


@contextmanager
def waiting() -> Iterator[None]:
    """While the block runs, the request calling it does not count against the limit."""
    _busy.add(-1)
    try:
        yield
    finally:
        _busy.add(1)


class ShedLoad:
    def __init__(self, application: Any) -> None:
        self.application = application
        # A page's stylesheets and scripts come in a burst of parallel requests (the admin's: about
        # fifteen); shedding them would break the page for nothing saved.
        self.static_prefix = "/" + settings.STATIC_URL.strip("/") + "/"

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["path"].startswith(self.static_prefix):  # whitenoise's files: no view, no query, not counted
            await self.application(scope, receive, send)
            return
        limit = settings.FLOWBUILDER_MAX_CONCURRENT_REQUESTS
        if limit and _busy.count >= limit and not scope["path"].startswith(ALWAYS_ANSWERED):
            await self._refuse(send)
            return
        _busy.add(1)
        try:
            await self.application(scope, receive, send)
        finally:
            _busy.add(-1)

    async def _refuse(self, send: Any) -> None:
        logger.warning("Shedding a request: %s already busy in this process", _busy.count)
        body = json.dumps(error_body("SERVICE_UNAVAILABLE", OVERLOADED_MESSAGE, reason="OVERLOADED")).encode()
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            (b"retry-after", str(settings.FLOWBUILDER_RETRY_AFTER_SECONDS).encode()),
        ]
        await send({"type": "http.response.start", "status": 503, "headers": headers})
        await send({"type": "http.response.body", "body": body})
