"""Periodic audit housekeeping (beat)."""

from __future__ import annotations

from celery import shared_task

from audit.services import audit_purge


@shared_task(name="audit.purge", acks_late=True, ignore_result=True, queue="default")
def purge() -> int:
    """Delete events past ``FLOWBUILDER_AUDIT_RETENTION_DAYS`` (idempotent)."""
    return audit_purge()
