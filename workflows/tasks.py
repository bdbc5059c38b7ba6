"""The Celery boundary of workflows: the task beat wakes for each scheduled workflow."""

from __future__ import annotations

from celery import shared_task

from workflows.triggers import schedule


@shared_task(name=schedule.FIRE_TASK, acks_late=True, ignore_result=True)
def fire_schedule(workflow_id: str) -> str:
    """Fire the workflow's due tick. Idempotent (one run per tick), so a redelivery is harmless; no retries:
    the next wake-up computes its own tick."""
    return schedule.schedule_fire(workflow_id=workflow_id).outcome
