"""Writes: subscriptions (secret made, encrypted, shown once), the per-user signing secret, and events.

An event becomes one ``pending`` :class:`WebhookDelivery` row per target (each
active subscription of the owner that wants it; a run's own ``webhook_url``),
written in one transaction; the delivery tasks are queued when it commits
(:func:`webhooks.delivery.queue_after_commit`). Emitting the same occurrence
twice (a repeated signal) makes no second delivery: first attempts carry a
de-duplication key that is unique per owner.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from flowbuilder import clock
from flowbuilder.api.errors import ValidationFailed
from flowbuilder.ids import parse_uuid
from integrations.net import check_destination
from webhooks import delivery, events
from webhooks.models import SUBSCRIBABLE_EVENTS, Event, WebhookDelivery, WebhookSigningSecret, WebhookSubscription
from webhooks.secrets import seal
from workflows.models import Workflow

logger = logging.getLogger(__name__)

_UNSET: Any = object()


# --- checks -------------------------------------------------------------------------------------------


def _check_events(names: Iterable[str]) -> list[str]:
    chosen = list(dict.fromkeys(names))
    if not chosen:
        raise ValidationFailed("Choose at least one event", field="events")
    for index, name in enumerate(chosen):
        if name not in SUBSCRIBABLE_EVENTS:
            raise ValidationFailed(f"Unknown event '{name}'", field=f"events[{index}]")
    return chosen


def _owned_workflow(owner: User, workflow_id: Any) -> Workflow | None:
    if workflow_id in (None, ""):
        return None
    key = parse_uuid(workflow_id)
    workflow = Workflow.objects.filter(owner=owner, pk=key).first() if key else None
    if workflow is None:  # someone else's is not confirmed either
        raise ValidationFailed("Workflow not found", field="workflow")
    return workflow


# --- subscriptions ----------------------------------------------------------------------------------------


@transaction.atomic
def webhook_create(
    *, owner: User, url: str, events: Iterable[str], workflow_id: Any = None, description: str = ""
) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (answered here only: it is stored encrypted, never shown again)."""
    subscription = WebhookSubscription(
        owner=owner,
        url=check_destination(url),
        events=_check_events(events),
        workflow=_owned_workflow(owner, workflow_id),
        description=description,
    )
    secret = seal(subscription)
    subscription.save()
    return subscription, secret


@transaction.atomic
def webhook_update(
    *,
    subscription: WebhookSubscription,
    url: str | None = None,
    events: Iterable[str] | None = None,
    is_active: bool | None = None,
    description: str | None = None,
    workflow_id: Any = _UNSET,
) -> WebhookSubscription:
    """Change the given fields. Re-activating clears the failure count; deactivating ends pending deliveries."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    if url is not None:
        locked.url = check_destination(url)
    if events is not None:
        locked.events = _check_events(events)
    if description is not None:
        locked.description = description
    if workflow_id is not _UNSET:
        locked.workflow = _owned_workflow(locked.owner, workflow_id)
    if is_active is not None and is_active != locked.is_active:
        locked.is_active = is_active
        if is_active:
            locked.failure_count, locked.disabled_at, locked.disabled_reason = 0, None, ""
        else:
            delivery.end_pending(locked, "The webhook was deactivated")
    locked.save()
    return locked


@transaction.atomic
def webhook_rotate_secret(*, subscription: WebhookSubscription) -> tuple[WebhookSubscription, str]:
    """A new signing secret, answered once; deliveries from now on are signed with it (retries included)."""
    locked = WebhookSubscription.objects.select_for_update().get(pk=subscription.pk)
    secret = seal(locked)
    locked.save(update_fields=["encrypted_secret", "secret_hint", "updated_at"])
    return locked, secret


@transaction.atomic
def webhook_delete(*, subscription: WebhookSubscription) -> None:
    """Delete the subscription and its delivery log; an attempt in flight finds its row gone and stops."""
    # Loaded whole (lists defer the secret): the audit snapshot reads every field.
    WebhookSubscription.objects.select_for_update().get(pk=subscription.pk).delete()


@transaction.atomic
def webhook_ping(*, subscription: WebhookSubscription) -> WebhookDelivery:
    """Queue a ``ping`` to the subscription, active or not: one attempt, no retry, no effect on its failure count."""
    delivery_id = uuid.uuid4()
    row = WebhookDelivery.objects.create(
        delivery_id=delivery_id,
        owner_id=subscription.owner_id,
        subscription=subscription,
        url=subscription.url,
        event=Event.PING,
        payload=events.envelope(Event.PING, events.ping_data(subscription), delivery_id),
        next_attempt_at=clock.now(),
    )
    delivery.queue_after_commit([row])
    return row


# --- the signing secret of per-run webhook URLs ------------------------------------------------------------


@transaction.atomic
def signing_secret_rotate(*, owner: User) -> tuple[WebhookSigningSecret, str]:
    """Make (or replace) ``owner``'s signing secret for per-run webhook URLs; answered once."""
    row = WebhookSigningSecret.objects.select_for_update().filter(owner=owner).first()
    row = row or WebhookSigningSecret(owner=owner)
    secret = seal(row)
    row.save()
    return row, secret


# --- events ------------------------------------------------------------------------------------------------


def event_emit(
    *,
    owner_id: Any,
    event: str,
    data: dict[str, Any] | Callable[[], dict[str, Any]],
    workflow_id: Any = None,
    occurrence: str = "",
    execution_id: Any = None,
    run_webhook_url: str = "",
    subscriptions: list[WebhookSubscription] | None = None,
) -> list[WebhookDelivery]:
    """Deliver ``event`` to every active subscription of ``owner_id`` that wants it, and to ``run_webhook_url``.

    ``subscriptions`` are the owner's active ones when the caller has read them already
    (:func:`active_subscriptions`). ``data`` may be a function, called only if someone is listening.
    ``occurrence`` names this happening of the event (``execution:<id>``):
    emitting it again creates nothing new. Answers the rows created; their
    tasks are queued on commit.
    """
    if subscriptions is None:
        subscriptions = active_subscriptions(owner_id)
    targets: list[tuple[WebhookSubscription | None, str]] = [
        (subscription, subscription.url) for subscription in subscriptions if subscription.wants(event, workflow_id)
    ]
    if run_webhook_url:
        targets.append((None, run_webhook_url))
    if not targets:
        return []
    return _deliveries_create(
        owner_id=owner_id,
        event=event,
        data=data() if callable(data) else data,
        targets=targets,
        occurrence=occurrence,
        execution_id=execution_id,
    )


@transaction.atomic
def _deliveries_create(
    *,
    owner_id: Any,
    event: str,
    data: dict[str, Any],
    targets: list[tuple[WebhookSubscription | None, str]],
    occurrence: str,
    execution_id: Any,
) -> list[WebhookDelivery]:
    now = clock.now()
    timestamp = events.iso(now)
    created: list[WebhookDelivery] = []
    for subscription, url in targets:
        delivery_id = uuid.uuid4()
        target = str(subscription.pk) if subscription else "run"
        row = WebhookDelivery(
            delivery_id=delivery_id,
            owner_id=owner_id,
            subscription=subscription,
            execution_id=execution_id,
            url=url,
            event=event,
            payload=events.envelope(event, data, delivery_id, timestamp),
            next_attempt_at=now,
            dedupe_key=f"{target}:{event}:{occurrence}"[:200] if occurrence else "",
        )
        try:
            with transaction.atomic():
                row.save(force_insert=True)
        except IntegrityError:
            continue  # this occurrence was already emitted to this target
        created.append(row)
    delivery.queue_after_commit(created)
    return created


def active_subscriptions(owner_id: Any) -> list[WebhookSubscription]:
    """The owner's active subscriptions, with what :func:`event_emit` reads of them."""
    return list(
        WebhookSubscription.objects.filter(owner_id=owner_id, is_active=True).only("id", "url", "events", "workflow_id")
    )


def execution_started_emit(
    *, execution: Any, subscriptions: list[WebhookSubscription] | None = None
) -> list[WebhookDelivery]:
    """``workflow.execution.started`` for a top-level, live run."""
    return event_emit(
        subscriptions=subscriptions,
        owner_id=execution.owner_id,
        event=Event.EXECUTION_STARTED,
        data=lambda: events.execution_data(execution, Event.EXECUTION_STARTED),
        workflow_id=execution.workflow_id,
        occurrence=f"execution:{execution.pk}",
        execution_id=execution.pk,
    )


def execution_finished_emit(
    *, execution: Any, subscriptions: list[WebhookSubscription] | None = None
) -> list[WebhookDelivery]:
    """``workflow.execution.completed`` or ``.failed`` for a top-level live run, to subscriptions and its webhook_url."""
    event = events.execution_event(execution.status)
    return event_emit(
        subscriptions=subscriptions,
        owner_id=execution.owner_id,
        event=event,
        data=lambda: events.execution_data(execution, event),
        workflow_id=execution.workflow_id,
        occurrence=f"execution:{execution.pk}",
        execution_id=execution.pk,
        run_webhook_url=execution.webhook_url,
    )


def file_processed_emit(*, stored: Any) -> list[WebhookDelivery]:
    return event_emit(
        owner_id=stored.owner_id,
        event=Event.FILE_PROCESSED,
        data=lambda: events.file_data(stored),
        workflow_id=stored.workflow_id,
        occurrence=f"file:{stored.pk}:{stored.execution_id}",
    )


def quota_exceeded_emit(*, user: Any, used_bytes: int, quota_bytes: int, requested_bytes: int) -> list[WebhookDelivery]:
    return event_emit(
        owner_id=user.pk,
        event=Event.QUOTA_EXCEEDED,
        data=events.quota_data(
            user=user, used_bytes=used_bytes, quota_bytes=quota_bytes, requested_bytes=requested_bytes
        ),
    )
