"""File writes: upload (limits, sniffing, quota), process (start a run on it), finish processing, delete.

Bytes are written before the row that names them commits; if anything after
fails, they are removed again. Deleting removes the row first and the bytes
after commit, so a failed delete never leaves a row without its bytes.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from executions.engine.definition import trigger_node
from executions.engine.nodes.trigger_manual import file_problem
from executions.models import Execution
from executions.services import execution_start
from files import selectors, signals
from files.errors import FileBusy, FileTooLarge, QuotaExceeded
from files.models import StoredFile
from files.names import safe_filename
from files.sniffing import SNIFF_BYTES, category_for, sniff
from files.storage import file_storage, storage_key
from flowbuilder.api.errors import ValidationFailed
from flowbuilder.locks import give_up_on_locks
from workflows.access import workflow_for
from workflows.models import Workflow

logger = logging.getLogger(__name__)


class _QuotaExceeded(Exception):
    def __init__(self, used: int) -> None:
        self.used = used


def _mb(size: int) -> str:
    return f"{size / 1_048_576:,.1f} MB"


def processing_workflow(*, user: User, workflow_id: Any, granted: frozenset[str]) -> Workflow:
    """The workflow ``user`` may run on a file; ValidationFailed (field ``workflow_id``) if unknown or unseen.

    Raises Forbidden when the user sees it but may not execute it.
    """
    return workflow_for(
        user,
        workflow_id,
        granted=granted,
        needed="workflow:execute",
        not_found=ValidationFailed(f"Workflow '{workflow_id}' not found", field="workflow_id"),
    )


def _check_takes(workflow: Workflow, reference: dict[str, Any]) -> None:
    """ValidationFailed if the workflow's manual trigger takes files of other categories."""
    trigger = trigger_node(workflow.definition) or {}
    if trigger.get("type") != "trigger.manual":
        return
    problem = file_problem(trigger.get("config") or {}, {"file": reference})
    if problem:
        raise ValidationFailed(f"{workflow.name}: {problem.removeprefix('input.file: ')}", field="workflow_id")


def file_upload(
    *,
    owner: User,
    upload: UploadedFile,
    description: str = "",
    workflow: Workflow | None = None,
    process_immediately: bool = False,
    base_url: str = "",
) -> StoredFile:
    """Store ``upload`` for ``owner``; with ``process_immediately``, start ``workflow`` on it.

    Raises ValidationFailed for an empty file or process_immediately without a
    workflow, PayloadTooLarge (413) over FLOWBUILDER_FILE_MAX_BYTES and over the
    owner's quota (FLOWBUILDER_FILE_QUOTA_BYTES; also sends ``quota_exceeded``).
    """
    size = upload.size or 0
    if size == 0:
        raise ValidationFailed("The file is empty", field="file")
    limit = settings.FLOWBUILDER_FILE_MAX_BYTES
    if size > limit:
        raise FileTooLarge(f"The file is {_mb(size)}; the limit is {_mb(limit)}", field="file")
    if process_immediately and workflow is None:
        raise ValidationFailed(
            "process_immediately needs a workflow_id: send the id of the workflow that should process the file "
            "(a form field workflow_id beside file)",
            field="workflow_id",
        )

    upload.seek(0)
    head = upload.read(SNIFF_BYTES)
    content_type = sniff(head, upload.content_type)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    stored = StoredFile(
        id=uuid.uuid4(),
        owner=owner,
        name=safe_filename(upload.name),
        description=description,
        content_type=content_type,
        declared_content_type=(upload.content_type or "")[:255],
        category=category_for(content_type),
        size=size,
        sha256=digest.hexdigest(),
        workflow=workflow,
    )
    if process_immediately:
        _check_takes(workflow, selectors.file_reference(stored, base_url=base_url))

    saved: str | None = None
    quota = settings.GUEST_FILE_QUOTA_BYTES if owner.is_guest else settings.FLOWBUILDER_FILE_QUOTA_BYTES
    try:
        with transaction.atomic():
            User.objects.select_for_update().filter(pk=owner.pk).exists()  # one upload at a time per user
            used = selectors.storage_used(owner)
            if used + size > quota:
                raise _QuotaExceeded(used)
            saved = file_storage().save(storage_key(owner.pk, stored.pk), upload)
            stored.key = saved
            stored.save()
            if process_immediately:
                _start(stored, workflow=workflow, actor=owner, input_data=None, base_url=base_url)
    except _QuotaExceeded as exc:
        signals.quota_exceeded.send(
            sender=StoredFile, user=owner, used_bytes=exc.used, quota_bytes=quota, requested_bytes=size
        )
        raise QuotaExceeded(
            f"Storage quota exceeded: you use {_mb(exc.used)} of {_mb(quota)} and this file needs {_mb(size)}; "
            "delete files to make room",
            field="file",
        ) from None
    except BaseException:
        if saved:
            file_storage().delete(saved)
        raise
    return stored


def _start(
    stored: StoredFile, *, workflow: Workflow, actor: User, input_data: dict[str, Any] | None, base_url: str
) -> Execution:
    reference = selectors.file_reference(stored, base_url=base_url)
    _check_takes(workflow, reference)
    execution, _ = execution_start(
        workflow=workflow,
        input_data={**(input_data or {}), "file": reference},
        actor=actor,
        trigger=Execution.Trigger.FILE,
    )
    stored.workflow = workflow
    stored.execution = execution
    stored.status = StoredFile.Status.PROCESSING
    stored.processing_result = None
    stored.processed_at = None
    stored.save(update_fields=["workflow", "execution", "status", "processing_result", "processed_at", "updated_at"])
    return execution


@transaction.atomic
def file_process(
    *,
    stored: StoredFile,
    actor: User,
    workflow: Workflow | None = None,
    input_data: dict[str, Any] | None = None,
    base_url: str = "",
) -> StoredFile:
    """Run ``workflow`` (else the file's linked one) with the file's reference as ``input.file``.

    The file goes uploaded → processing; the run's end moves it to processed
    or failed (:func:`file_processing_finish`). Raises Conflict while it is
    being processed and ValidationFailed (field ``workflow_id``) without a workflow.
    """
    stored = StoredFile.objects.select_for_update().get(pk=stored.pk)
    if stored.status == StoredFile.Status.PROCESSING:
        raise FileBusy("The file is being processed; wait for the run to end")
    workflow = workflow or stored.workflow
    if workflow is None:
        raise ValidationFailed("No workflow is linked to this file; give a workflow_id", field="workflow_id")
    _start(stored, workflow=workflow, actor=actor, input_data=input_data, base_url=base_url)
    return stored


@transaction.atomic
def file_processing_finish(*, execution: Execution) -> int:
    """Record the end of ``execution`` on the files it was processing; answers how many.

    Idempotent: only files still ``processing`` with this run change, so a
    repeated signal does nothing. Sends ``file_processed`` for each, in this transaction.
    """
    succeeded = execution.status == Execution.Status.COMPLETED
    result = {
        "execution_id": str(execution.pk),
        "status": execution.status,
        "output": execution.output_data if succeeded else None,
        "error": execution.error,
    }
    files = list(
        StoredFile.objects.select_for_update().filter(execution_id=execution.pk, status=StoredFile.Status.PROCESSING)
    )
    now = timezone.now()
    for stored in files:
        stored.status = StoredFile.Status.PROCESSED if succeeded else StoredFile.Status.FAILED
        stored.processing_result = result
        stored.processed_at = now
        stored.save(update_fields=["status", "processing_result", "processed_at", "updated_at"])
        signals.file_processed.send(sender=StoredFile, file=stored)
    return len(files)


def file_processing_reconcile(*, grace_seconds: float = 30) -> int:
    """Finish the files whose run ended more than ``grace_seconds`` ago but which still say ``processing``.

    The run's end reaches its files in the transaction that ends it; if that failed (the listener
    logs and rolls back to its savepoint), or for runs that ended before it did so, a file would
    stay ``processing`` for ever (and ``process`` answer 409). The rows say what happened, so this
    sweep (beat, every FLOWBUILDER_FILE_RECONCILE_SECONDS) finishes them. Answers how many.
    """
    ended_before = timezone.now() - timedelta(seconds=grace_seconds)
    runs = (
        Execution.objects.filter(
            files__status=StoredFile.Status.PROCESSING,
            status__in=Execution.FINISHED,
            completed_at__lt=ended_before,
        )
        .distinct()
        .order_by()[:1000]
    )
    finished = 0
    for execution in runs:
        try:
            with transaction.atomic():
                give_up_on_locks()
                finished += file_processing_finish(execution=execution)
        except Exception:  # one odd row must not stop the others
            logger.exception("Could not finish the files of run %s", execution.pk)
    if finished:
        logger.warning("Finished %d file(s) whose run had ended without telling them", finished)
    return finished


@transaction.atomic
def file_delete(*, stored: StoredFile) -> None:
    """Delete the row now and its bytes once that commits."""
    name = stored.key
    StoredFile.objects.filter(pk=stored.pk).delete()

    def remove_bytes() -> None:
        try:
            file_storage().delete(name)
        except Exception:  # the row is gone either way; orphaned bytes are only wasted space
            logger.exception("Could not delete the bytes of file %s (%s)", stored.pk, name)

    transaction.on_commit(remove_bytes)
