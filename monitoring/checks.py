"""Dependency checks for the health endpoint, each timed.

``CRITICAL`` checks decide the overall status (503 when one fails): the web
process cannot serve without its database, cache, broker or channel layer.
``workers`` is reported to staff but does not fail the health check: a web
process must stay in its load balancer while workers restart (runs queue up
in the broker meanwhile, and the dashboard shows the queue growing). Nor does
``script_isolation`` (the OS isolation script nodes run under): without one,
script steps fail with the reason, everything else works.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from asgiref.sync import async_to_sync
from django.conf import settings
from django.core.cache import cache
from django.db import connection

CHANNEL_LAYER_TIMEOUT = 2.0
BROKER_TIMEOUT = 2.0


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    response_time_ms: float
    error: str | None = None
    detail: Any = None
    critical: bool = True


def _timed(name: str, probe: Callable[[], Any], *, critical: bool = True) -> CheckResult:
    started = time.perf_counter()
    try:
        detail = probe()
    except Exception as exc:  # a health check reports failures, it never raises
        return CheckResult(
            name,
            False,
            round((time.perf_counter() - started) * 1000, 2),
            f"{type(exc).__name__}: {exc}",
            critical=critical,
        )
    return CheckResult(name, True, round((time.perf_counter() - started) * 1000, 2), detail=detail, critical=critical)


def _database() -> dict[str, int] | None:
    """A round trip; on PostgreSQL, this process's connection pool (size, idle, waiting, maximum)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    pool = getattr(connection, "pool", None)
    if pool is None:
        return None
    stats = pool.get_stats()
    return {
        "pool_max_size": pool.max_size,
        "pool_size": stats.get("pool_size", 0),
        "pool_available": stats.get("pool_available", 0),
        "requests_waiting": stats.get("requests_waiting", 0),
    }


def _cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


def _broker() -> dict[str, str]:
    """Open (and close) a connection to the Celery broker at ``CELERY_BROKER_URL``."""
    from flowbuilder.celery import app

    url = settings.CELERY_BROKER_URL
    with app.connection_for_write(url=url, connect_timeout=BROKER_TIMEOUT) as conn:
        conn.ensure_connection(max_retries=1, interval_start=0, interval_step=0, timeout=BROKER_TIMEOUT)
        return {"transport": conn.transport_cls}


def _channel_layer() -> None:
    """A message sent to a group comes back through the layer (Redis, or in memory)."""
    from channels.layers import get_channel_layer

    layer = get_channel_layer()
    if layer is None:
        raise RuntimeError("no channel layer is configured")

    async def round_trip() -> None:
        channel = await layer.new_channel()
        group = f"health.{uuid.uuid4().hex}"
        await layer.group_add(group, channel)
        try:
            token = uuid.uuid4().hex
            await layer.group_send(group, {"type": "health.ping", "token": token})
            message = await asyncio.wait_for(layer.receive(channel), CHANNEL_LAYER_TIMEOUT)
            if message.get("token") != token:
                raise RuntimeError("the channel layer returned another message")
        finally:
            await layer.group_discard(group, channel)

    async_to_sync(round_trip)()


def _workers() -> dict[str, Any]:
    from monitoring.selectors import workers_seen

    names = workers_seen()
    if names is None:
        raise RuntimeError("the broker could not be asked")
    if not names:
        raise RuntimeError("no worker answered")
    return {"count": len(names), "names": names}


def _script_isolation() -> dict[str, str]:
    """The isolation script nodes run under in this process (detected once), or why they are refused."""
    from executions.engine.sandbox import current_isolation

    isolation = current_isolation()
    if not isolation.available:
        raise RuntimeError(f"scripts are refused: {isolation.detail}")
    return {"mode": isolation.mode, "detail": isolation.detail}


CHECKS: dict[str, Callable[[], Any]] = {
    "database": _database,
    "cache": _cache,
    "broker": _broker,
    "channel_layer": _channel_layer,
}
DETAIL_CHECKS: dict[str, Callable[[], Any]] = {"workers": _workers, "script_isolation": _script_isolation}


def run_checks(*, detail: bool = False) -> list[CheckResult]:
    """The critical checks, and with ``detail`` the informational ones (workers, script isolation)."""
    results = [_timed(name, probe) for name, probe in CHECKS.items()]
    if detail:
        results += [_timed(name, probe, critical=False) for name, probe in DETAIL_CHECKS.items()]
    return results
