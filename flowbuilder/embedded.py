"""The embedded mode's in-process Celery worker and beat.

With no broker configured (``CELERY_BROKER_URL=memory://``), the web process
runs a Celery ``WorkController`` with a thread pool, and beat, on daemon
threads. The API code is the same as in production: it queues tasks through
Celery and answers 202 at once; only the settings differ. Started by the ASGI
lifespan (``flowbuilder.asgi``) or by ``start()`` directly.
"""

from __future__ import annotations

import logging
import socket
import threading

from django.conf import settings

logger = logging.getLogger(__name__)

_lock = threading.Lock()
_started = False


def start() -> bool:
    """Start the in-process worker and beat once per process; True if started now."""
    global _started
    with _lock:
        if _started or not settings.EMBEDDED_WORKER:
            return False
        _started = True

    from celery.beat import EmbeddedService
    from celery.utils.imports import symbol_by_name
    from celery.worker import WorkController

    from flowbuilder.celery import app

    app.set_current()
    worker = WorkController(
        app=app,
        hostname=f"embedded@{socket.gethostname()}",
        pool="threads",
        concurrency=settings.EMBEDDED_WORKER_CONCURRENCY,
        without_heartbeat=True,
        without_mingle=True,
        without_gossip=True,
        loglevel=settings.LOG_LEVEL,
    )
    threading.Thread(target=worker.start, name="embedded-celery-worker", daemon=True).start()
    # EmbeddedService ignores beat_scheduler unless told: pass the database scheduler.
    beat = EmbeddedService(app, thread=True, scheduler_cls=symbol_by_name(settings.CELERY_BEAT_SCHEDULER))
    beat.start()
    logger.info(
        "Embedded Celery worker (%d threads) and beat started on %s",
        settings.EMBEDDED_WORKER_CONCURRENCY,
        settings.CELERY_BROKER_URL,
    )
    return True
