"""The Celery boundary of files: a periodic reconciliation (queue ``default``)."""

from __future__ import annotations

from celery import shared_task

from files import services


@shared_task(name="files.reconcile_processing", acks_late=True, ignore_result=True, queue="default")
def reconcile_processing() -> int:
    """Finish files whose run ended without telling them (beat, every FLOWBUILDER_FILE_RECONCILE_SECONDS)."""
    return services.file_processing_reconcile()
