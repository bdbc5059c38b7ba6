"""The request-scoped audit context: who acts, from which address, with which request id.

:class:`audit.middleware.AuditContextMiddleware` sets it for every HTTP
request; management commands and tasks may set their own with
:func:`audit_scope`. Outside both, events are attributed to ``system``.
The actor is read lazily from the request at write time, because DRF
authenticates (JWT, API key) inside the view, after the middleware ran.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, replace
from typing import Any

from django.http import HttpRequest

from flowbuilder.api.request_id import get_request_id
from flowbuilder.client_ip import client_ip


@dataclass(frozen=True)
class AuditContext:
    source: str
    request: HttpRequest | None = None
    actor: Any = None  # an explicit actor (commands); else the request's user
    ip: str | None = None
    user_agent: str = ""
    request_id: str = ""

    def resolve_actor(self) -> Any:
        """The acting user, or None (anonymous, system)."""
        if self.actor is not None:
            return self.actor
        user = getattr(self.request, "user", None) if self.request is not None else None
        if user is not None and getattr(user, "is_authenticated", False):
            return user
        return None


_current: ContextVar[AuditContext | None] = ContextVar("audit_context", default=None)


def current() -> AuditContext:
    """The context in force; ``system`` with the current request id when none is set."""
    return _current.get() or AuditContext(source="system", request_id=get_request_id() or "")


def source_for_path(path: str) -> str:
    if path.startswith("/admin/"):
        return "admin"
    if path.startswith("/api/"):
        return "api"
    return "web"


def context_for_request(request: HttpRequest) -> AuditContext:
    return AuditContext(
        source=source_for_path(request.path),
        request=request,
        ip=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", "")[:512],
        request_id=getattr(request, "request_id", None) or get_request_id() or "",
    )


def set_context(context: AuditContext | None) -> object:
    return _current.set(context)


def reset_context(token: object) -> None:
    _current.reset(token)  # type: ignore[arg-type]


@contextmanager
def audit_scope(*, source: str | None = None, actor: Any = None) -> Iterator[AuditContext]:
    """Attribute the events recorded inside to ``actor`` and/or ``source`` (e.g. ``cli``)."""
    base = current()
    context = replace(base, source=source or base.source, actor=actor if actor is not None else base.actor)
    token = set_context(context)
    try:
        yield context
    finally:
        reset_context(token)
