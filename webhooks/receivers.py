"""The webhooks app's side of other apps' signals: runs started and ended, files processed, quotas hit.

Each receiver turns its signal into an event (:mod:`webhooks.services`): delivery
rows written in the sender's transaction (an outbox), so an event exists if and
only if what it reports was committed; the rows are queued after the commit and
``webhooks.sweep`` queues any a dead process did not. Only top-level live runs make
run events: child runs of sub-workflow and for_each steps are steps of their
parent, and dry runs have no side effects. A failure here is logged and rolled
back to its savepoint: the engine and the upload that sent the signal must not
fail because an event could not be recorded.
"""

from __future__ import annotations

import logging
from typing import Any

from django.db import transaction
from django.dispatch import receiver

from executions.models import Execution
from executions.signals import execution_finished, execution_started
from files.signals import file_processed, quota_exceeded
from webhooks import services

logger = logging.getLogger(__name__)


def _makes_events(execution: Execution) -> bool:
    return execution.parent_id is None and execution.mode == Execution.Mode.LIVE


@receiver(execution_started, dispatch_uid="webhooks.execution_started")
def _run_started(sender: Any, execution: Execution, **kwargs: Any) -> None:
    if not _makes_events(execution):
        return
    try:
        # Read first, outside a savepoint: most owners have no subscription, and then there is
        # nothing to record (a savepoint costs two round trips).
        subscriptions = services.active_subscriptions(execution.owner_id)
        if not subscriptions:
            return
        with transaction.atomic():
            services.execution_started_emit(execution=execution, subscriptions=subscriptions)
    except Exception:
        logger.exception("Could not record the webhook event of run %s starting", execution.pk)


@receiver(execution_finished, dispatch_uid="webhooks.execution_finished")
def _run_finished(sender: Any, execution: Execution, **kwargs: Any) -> None:
    if not _makes_events(execution):
        return
    try:
        subscriptions = services.active_subscriptions(execution.owner_id)
        if not subscriptions and not execution.webhook_url:
            return
        with transaction.atomic():
            services.execution_finished_emit(execution=execution, subscriptions=subscriptions)
    except Exception:
        logger.exception("Could not record the webhook event of run %s ending", execution.pk)


@receiver(file_processed, dispatch_uid="webhooks.file_processed")
def _file_processed(sender: Any, file: Any, **kwargs: Any) -> None:
    try:
        with transaction.atomic():
            services.file_processed_emit(stored=file)
    except Exception:
        logger.exception("Could not record the webhook event of file %s", file.pk)


@receiver(quota_exceeded, dispatch_uid="webhooks.quota_exceeded")
def _quota_exceeded(
    sender: Any, user: Any, used_bytes: int, quota_bytes: int, requested_bytes: int, **kwargs: Any
) -> None:
    try:
        with transaction.atomic():
            services.quota_exceeded_emit(
                user=user, used_bytes=used_bytes, quota_bytes=quota_bytes, requested_bytes=requested_bytes
            )
    except Exception:
        logger.exception("Could not record the quota webhook event of user %s", user.pk)
