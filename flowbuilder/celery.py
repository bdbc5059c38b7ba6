"""The Celery application. Configuration comes from Django settings (``CELERY_*``)."""

from __future__ import annotations

import os
from typing import Any

from celery import Celery
from celery.signals import task_postrun
from kombu import Queue

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbuilder.settings")

app = Celery("flowbuilder")
app.config_from_object("django.conf:settings", namespace="CELERY")
# A plain `celery -A flowbuilder worker` consumes both; steps can get workers of their own.
app.conf.task_queues = (Queue("default"), Queue("steps"))
app.autodiscover_tasks()


@task_postrun.connect
def close_unusable_connections(**kwargs: Any) -> None:
    """After a task, drop database connections that broke or are past CONN_MAX_AGE (as after a request)."""
    from django.db import close_old_connections

    close_old_connections()
