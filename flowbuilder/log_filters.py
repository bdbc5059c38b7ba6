"""Log filters: credentials in query strings never reach a log line.

Browsers cannot set headers on a websocket or an ``EventSource``, so tokens and API keys
travel as ``?token=`` / ``?api_key=`` (SPEC §4). Servers log the path with its query:
uvicorn's access log and its websocket ``[accepted]`` line. :class:`QuerySecretsFilter`
rewrites those values to ``[redacted]`` in a record's message and arguments; it is on
Django's console handler and on uvicorn's loggers (installed by ``flowbuilder.asgi``).
"""

from __future__ import annotations

import logging
import re

SECRET_PARAMS = re.compile(r"((?:^|[?&;])(?:token|api_key|access_token|refresh_token|key)=)[^&;\s\"']+", re.IGNORECASE)
REDACTED = "[redacted]"
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def scrub(text: str) -> str:
    return SECRET_PARAMS.sub(rf"\1{REDACTED}", text)


class QuerySecretsFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str) and "=" in record.msg:
            record.msg = scrub(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(scrub(a) if isinstance(a, str) and "=" in a else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: scrub(v) if isinstance(v, str) and "=" in v else v for k, v in record.args.items()}
        return True


def install_on_server_loggers() -> None:
    """Add the filter to the ASGI server's loggers (and their handlers), once."""
    for name in UVICORN_LOGGERS:
        logger = logging.getLogger(name)
        targets = [logger, *logger.handlers]
        for target in targets:
            if not any(isinstance(f, QuerySecretsFilter) for f in target.filters):
                target.addFilter(QuerySecretsFilter())
