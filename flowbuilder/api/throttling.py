"""Rate limits per user (per IP when anonymous) with fixed windows in the cache.

Each configured rate ("100/minute", "1000/hour", …) is a counter keyed by
scope, identity and window, incremented atomically (``INCR`` on Redis), so
every web process shares the same counts. The tightest window is reported in
``X-RateLimit-*`` headers by :class:`~flowbuilder.api.middleware.RateLimitHeadersMiddleware`.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import redis.exceptions
from django.conf import settings
from django.core.cache import cache
from rest_framework.request import Request
from rest_framework.throttling import BaseThrottle

from flowbuilder.client_ip import client_ip

logger = logging.getLogger(__name__)

PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


@dataclass(frozen=True)
class RateLimitState:
    limit: int
    remaining: int
    reset: int  # epoch seconds when the window ends
    window: int = 0  # the window's length in seconds (X-RateLimit-Window)


def parse_rate(rate: str) -> tuple[int, int]:
    """``"100/minute"`` → ``(100, 60)``."""
    count, _, period = rate.partition("/")
    return int(count), PERIODS[period.strip()[0].lower()]


def _incr(key: str, timeout: int) -> int:
    cache.add(key, 0, timeout=timeout)
    try:
        return cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=timeout)
        return 1


@dataclass(frozen=True)
class WindowCount:
    """One request counted in every window of a set of rates."""

    tightest: RateLimitState | None  # the window with the fewest requests left (for X-RateLimit-*)
    retry_after: int  # seconds until every exceeded window has reset; 0 when none is exceeded

    @property
    def allowed(self) -> bool:
        return self.retry_after == 0


def count_request(key: str, rates: Iterable[str], *, now: float | None = None) -> WindowCount:
    """Count one request under ``key`` in a fixed window per rate ("100/minute", …), shared by every process.

    Fails open: with the cache (Redis) unreachable the request is allowed, not refused, and a
    warning says so (at most once a minute per process): an outage of the counter must not turn
    every request into an error.
    """
    try:
        return _count(key, rates, time.time() if now is None else now)
    except _CACHE_DOWN as exc:
        global _warned_at
        if time.monotonic() - _warned_at > 60:
            _warned_at = time.monotonic()
            logger.warning("Rate limits are not enforced: the cache is unreachable (%s: %s)", type(exc).__name__, exc)
        return WindowCount(tightest=None, retry_after=0)


_CACHE_DOWN = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)
_warned_at = -math.inf


def _count(key: str, rates: Iterable[str], now: float) -> WindowCount:
    tightest: RateLimitState | None = None
    retry_after = 0
    for rate in rates:
        limit, period = parse_rate(rate)
        window = int(now // period)
        reset = (window + 1) * period
        count = _incr(f"{key}:{period}:{window}", timeout=period + 5)
        state = RateLimitState(limit=limit, remaining=max(0, limit - count), reset=reset, window=period)
        if tightest is None or state.remaining < tightest.remaining:
            tightest = state
        if count > limit:
            retry_after = max(retry_after, math.ceil(reset - now), 1)
    return WindowCount(tightest=tightest, retry_after=retry_after)


class RateLimitThrottle(BaseThrottle):
    """Checks every configured window for the view's ``throttle_scope``."""

    def __init__(self) -> None:
        self.retry_after: int | None = None

    def identity(self, request: Request) -> str:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            return f"user:{user.pk}"
        return f"ip:{client_ip(request)}"

    def allow_request(self, request: Request, view: Any) -> bool:
        if not settings.RATE_LIMIT_ENABLED:
            return True
        scope = getattr(view, "throttle_scope", None) or "default"
        rates = settings.RATE_LIMITS.get(scope) or settings.RATE_LIMITS["default"]
        ident = self.identity(request) if scope != "auth" else f"ip:{client_ip(request)}"
        counted = count_request(f"rl:{scope}:{ident}", rates)
        tightest = counted.tightest
        if not counted.allowed:
            self.retry_after = counted.retry_after
        request._request.rate_limit = tightest  # read by RateLimitHeadersMiddleware
        return counted.allowed

    def wait(self) -> float | None:
        return self.retry_after
