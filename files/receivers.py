"""The files app's side of other apps' signals: a processing run ended."""

from __future__ import annotations

from typing import Any

from django.dispatch import receiver

from executions.models import Execution
from executions.signals import execution_finished
from files import services


@receiver(execution_finished, dispatch_uid="files.execution_finished")
def _run_finished(sender: Any, execution: Execution, **kwargs: Any) -> None:
    if execution.trigger == Execution.Trigger.FILE:
        services.file_processing_finish(execution=execution)
