"""The Celery boundary of workflows: the task beat wakes for each scheduled workflow."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import Task, shared_task
from django.conf import settings

from flowbuilder import clock
from flowbuilder.outages import outage_errors
from workflows.triggers import schedule

logger = logging.getLogger(__name__)

# Backoff between tries of a tick that met an outage (1, 2, 4, … s, at most this).
MAX_RETRY_DELAY_SECONDS = 30


@shared_task(bind=True, name=schedule.FIRE_TASK, acks_late=True, ignore_result=True, max_retries=None)
def fire_schedule(self: Task, workflow_id: str, due_at: str | None = None) -> str:
    """Fire the workflow's tick due at ``due_at`` (beat leaves it out: the tick due now). Idempotent (one run
    per tick), so a redelivery is harmless.

    A tick that meets a database (or broker) outage is tried again, with backoff, for the tick it was
    woken for, until it is older than ``FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS``: the run starts
    late but starts, once, and the next wake-up fires its own tick.
    """
    moment = datetime.fromisoformat(due_at) if due_at else clock.now()
    try:
        return schedule.schedule_fire(workflow_id=workflow_id, now=moment).outcome
    except outage_errors() as exc:
        late = clock.now() - moment
        if late > timedelta(seconds=settings.FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS):
            logger.error("Workflow %s: the tick due at %s was never fired (%s)", workflow_id, moment.isoformat(), exc)
            return "missed"
        delay = min(2**self.request.retries, MAX_RETRY_DELAY_SECONDS)
        logger.warning(
            "Workflow %s: tick due at %s not fired (%s); trying again in %s s", workflow_id, moment, exc, delay
        )
        raise self.retry(args=(workflow_id, moment.isoformat()), countdown=delay) from exc
