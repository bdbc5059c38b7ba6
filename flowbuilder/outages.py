"""What an outage looks like from here: the database, Redis or the broker cannot answer now.

Down, restarting, saturated, or a connection pool with none free. Not a bug: the API answers
503 with ``Retry-After`` (``flowbuilder.api.errors``), a scheduled tick tries again
(``workflows.tasks``).
"""

from __future__ import annotations

from functools import cache


@cache
def outage_errors() -> tuple[type[BaseException], ...]:
    import kombu.exceptions
    import psycopg
    import redis.exceptions
    from django import db

    return (
        db.OperationalError,  # unreachable, out of connections, the pool's timeout, a lock or statement timeout
        db.InterfaceError,
        psycopg.OperationalError,
        redis.exceptions.ConnectionError,
        redis.exceptions.TimeoutError,
        kombu.exceptions.OperationalError,  # the broker
    )


def is_outage(exc: BaseException) -> bool:
    return isinstance(exc, outage_errors())
