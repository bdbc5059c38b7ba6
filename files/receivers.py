"""The files app's side of other apps' signals: a processing run ended."""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from executions.models import Execution
from executions.signals import execution_finished
from files import services

logger = logging.getLogger(__name__)


@receiver(execution_finished, dispatch_uid="files.execution_finished")
def _run_finished(sender: Any, execution: Execution, **kwargs: Any) -> None:
    """In the transaction that ends the run: its files' status changes with it (the sweep repairs a failure)."""
    if execution.trigger != Execution.Trigger.FILE:
        return
    try:
        with transaction.atomic():
            services.file_processing_finish(execution=execution)
    except Exception:
        logger.exception("Could not record the end of run %s on its files", execution.pk)
