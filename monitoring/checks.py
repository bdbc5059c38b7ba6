"""Dependency checks for the health endpoint, each timed."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.cache import cache
from django.db import connection


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    response_time_ms: float
    error: str | None = None


def _timed(name: str, probe: Callable[[], None]) -> CheckResult:
    started = time.perf_counter()
    try:
        probe()
    except Exception as exc:  # a health check reports failures, it never raises
        return CheckResult(
            name, False, round((time.perf_counter() - started) * 1000, 2), f"{type(exc).__name__}: {exc}"
        )
    return CheckResult(name, True, round((time.perf_counter() - started) * 1000, 2))


def _database() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()


def _cache() -> None:
    key = f"health:{uuid.uuid4().hex}"
    cache.set(key, "1", timeout=5)
    if cache.get(key) != "1":
        raise RuntimeError("cache did not return what was stored")
    cache.delete(key)


CHECKS: dict[str, Callable[[], None]] = {"database": _database, "cache": _cache}


def run_checks() -> list[CheckResult]:
    return [_timed(name, probe) for name, probe in CHECKS.items()]
