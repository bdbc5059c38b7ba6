"""The request id: taken from ``X-Request-ID`` when sane, else generated.

Kept in a context variable so that logs, error bodies and the response header
all carry the same id, under WSGI threads and ASGI tasks alike.
"""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_VALID = re.compile(r"^[A-Za-z0-9._\-]{1,128}$")


def new_request_id(incoming: str | None = None) -> str:
    """Accept a client's id if it is short and plain, so it can be logged safely."""
    if incoming and _VALID.match(incoming):
        return incoming
    return uuid.uuid4().hex


def set_request_id(value: str | None) -> object:
    return _request_id.set(value)


def reset_request_id(token: object) -> None:
    _request_id.reset(token)  # type: ignore[arg-type]


def get_request_id() -> str | None:
    return _request_id.get()
