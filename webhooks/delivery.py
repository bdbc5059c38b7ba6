"""Delivering: one attempt per task, retries with backoff, the sweep, auto-disable.

An attempt (:func:`deliver`):

1. **claims** its ``pending`` row with one conditional ``UPDATE`` (due, not
   held by another attempt): a duplicate message, or a row already attempted,
   does nothing;
2. **sends** ``POST <url>`` with the signed JSON body through the SSRF-guarded
   client of :mod:`integrations.net` (redirects are not followed: a 3xx is a
   failure), bounded by ``FLOWBUILDER_WEBHOOK_DELIVERY_TIMEOUT_SECONDS``, outside
   any transaction;
3. **records** the answer on the row (status code, response time, the start of
   the body, the error) under its lock. 2xx is success. A refused address is
   ``failed`` (not retried); any other failure is ``retrying`` while
   ``FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS`` has delays left, with the next
   attempt written as a new ``pending`` row due after the delay, else
   ``given_up``. A failure counts against the subscription: after
   ``FLOWBUILDER_WEBHOOK_DISABLE_AFTER_FAILURES`` failed attempts in a row it is
   disabled, its pending deliveries end, and its owner gets an e-mail.

Retries due within ``FLOWBUILDER_MAX_COUNTDOWN_SECONDS`` are also queued with a
broker countdown; later ones are queued by :func:`sweep` (beat) once due, never
by a long countdown that Redis would redeliver after its visibility timeout.
The sweep also re-queues due rows whose message was lost.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
from celery import current_app
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q

from flowbuilder import clock
from flowbuilder.batches import delete_in_batches
from integrations import crypto
from integrations.net import BlockedAddress, current_guard, guarded_client
from webhooks import signing
from webhooks.models import Event, WebhookDelivery, WebhookSubscription
from webhooks.secrets import signing_secret_for

# Sent by name: webhooks.tasks imports this module, not the other way round.
DELIVER_TASK = "webhooks.deliver"
NOTIFY_DISABLED_TASK = "webhooks.notify_disabled"

logger = logging.getLogger(__name__)

USER_AGENT = "Flowbuilder-Webhooks/1.0"
RESPONSE_EXCERPT_BYTES = 2048
# An attempt holds its row this long past its timeout before the sweep may give it to another worker.
LEASE_MARGIN_SECONDS = 30


def retry_delays() -> list[float]:
    return [float(d) for d in settings.FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS]


def max_attempts() -> int:
    return len(retry_delays()) + 1


# --- queueing -------------------------------------------------------------------------------------------------


def queue_after_commit(rows: Iterable[WebhookDelivery]) -> None:
    """Queue the attempts of these (saved, pending) rows once the transaction commits.

    Due now: at once. Due within FLOWBUILDER_MAX_COUNTDOWN_SECONDS: with a
    countdown. Later: not at all (the sweep queues them when due). ``queued_at``
    records when each task should start, so the sweep leaves it alone until then.
    """
    now = clock.now()
    jobs: list[tuple[str, float]] = []
    for row in rows:
        wait = max(0.0, (row.next_attempt_at - now).total_seconds())
        if wait <= settings.FLOWBUILDER_MAX_COUNTDOWN_SECONDS:
            jobs.append((str(row.pk), wait))
    if jobs:
        WebhookDelivery.objects.filter(pk__in=[pk for pk, _ in jobs]).update(queued_at=F("next_attempt_at"))
        transaction.on_commit(lambda: _send_tasks(jobs))


def _send_tasks(jobs: list[tuple[str, float]]) -> None:
    for pk, wait in jobs:
        current_app.send_task(DELIVER_TASK, (pk,), countdown=wait or None, queue="default")


def sweep(*, batch_size: int = 500) -> int:
    """Queue due ``pending`` attempts that no task will start: long backoffs, lost messages, dead workers.

    A row is taken when it is due, not held by an attempt in flight, and was
    never queued or was queued more than FLOWBUILDER_REQUEUE_AFTER_SECONDS ago.
    Answers how many were queued. Duplicates are harmless (the claim decides).
    """
    now = clock.now()
    stale = now - timedelta(seconds=settings.FLOWBUILDER_REQUEUE_AFTER_SECONDS)
    with transaction.atomic():
        due = list(
            WebhookDelivery.objects.select_for_update(skip_locked=True)
            .filter(status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
            .filter(Q(queued_at__isnull=True) | Q(queued_at__lte=stale))
            .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:batch_size]
        )
        if due:
            WebhookDelivery.objects.filter(pk__in=due).update(queued_at=now)
            jobs = [(str(pk), 0.0) for pk in due]
            transaction.on_commit(lambda: _send_tasks(jobs))
    return len(due)


def purge(*, older_than: timedelta | None = None, batch_size: int = 5000) -> int:
    """Delete finished attempts older than ``FLOWBUILDER_WEBHOOK_DELIVERY_RETENTION_DAYS`` (0: keep them)."""
    if older_than is None:
        days = settings.FLOWBUILDER_WEBHOOK_DELIVERY_RETENTION_DAYS
        if not days:
            return 0
        older_than = timedelta(days=days)
    expired = WebhookDelivery.objects.filter(
        created_at__lt=clock.now() - older_than, status__in=WebhookDelivery.FINISHED
    )
    return delete_in_batches(expired, batch_size=batch_size)


def end_pending(subscription: WebhookSubscription, reason: str) -> int:
    """End the subscription's pending attempts as ``failed`` (it was disabled or deactivated)."""
    return WebhookDelivery.objects.filter(subscription=subscription, status=WebhookDelivery.Status.PENDING).update(
        status=WebhookDelivery.Status.FAILED,
        error=reason,
        next_attempt_at=None,
        completed_at=clock.now(),
        updated_at=clock.now(),
    )


# --- one attempt ----------------------------------------------------------------------------------------------


@dataclass
class Outcome:
    ok: bool
    status: int | None = None
    elapsed_ms: int | None = None
    body: str = ""
    error: str = ""
    retryable: bool = True
    counts: bool = True  # against the subscription (not when the fault is ours, or it is disabled)


def deliver(delivery_pk: Any) -> str | None:
    """Make the attempt of a pending row; answers its new status, or None if there was nothing to do."""
    row = _claim(delivery_pk)
    if row is None:
        return None
    subscription = row.subscription
    if subscription is not None and not subscription.is_active and row.event != Event.PING:
        return _record(row, Outcome(ok=False, error="The webhook is disabled", retryable=False, counts=False), row.url)
    url = subscription.url if subscription is not None else row.url
    try:
        secret = _secret(row)
    except crypto.DecryptionFailed as exc:
        return _record(row, Outcome(ok=False, error=str(exc), retryable=False, counts=False), url)
    return _record(row, post(url, row, secret), url)


def _claim(delivery_pk: Any) -> WebhookDelivery | None:
    now = clock.now()
    lease = now + timedelta(seconds=settings.FLOWBUILDER_WEBHOOK_DELIVERY_TIMEOUT_SECONDS + LEASE_MARGIN_SECONDS)
    won = (
        WebhookDelivery.objects.filter(pk=delivery_pk, status=WebhookDelivery.Status.PENDING, next_attempt_at__lte=now)
        .filter(Q(locked_until__isnull=True) | Q(locked_until__lt=now))
        .update(locked_until=lease, attempted_at=now, updated_at=now)
    )
    if not won:
        return None
    return WebhookDelivery.objects.select_related("subscription").filter(pk=delivery_pk).first()


def _secret(row: WebhookDelivery) -> str:
    if row.subscription is not None:
        return crypto.decrypt(row.subscription.encrypted_secret)
    return signing_secret_for(row.owner_id)


def body_of(payload: dict[str, Any]) -> bytes:
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()


def post(url: str, row: WebhookDelivery, secret: str) -> Outcome:
    """Send the row's payload, signed, to ``url`` through the guard; never raises."""
    body = body_of(row.payload)
    headers = {
        "Content-Type": "application/json",
        "User-Agent": USER_AGENT,
        "X-Flowbuilder-Event": row.event,
        "X-Flowbuilder-Delivery": str(row.delivery_id),
        "X-Flowbuilder-Attempt": str(row.attempt),
        signing.HEADER: signing.signature_header(secret, body),
    }
    timeout = float(settings.FLOWBUILDER_WEBHOOK_DELIVERY_TIMEOUT_SECONDS)
    started = time.monotonic()

    def elapsed() -> int:
        return round((time.monotonic() - started) * 1000)

    try:
        current_guard().check_url(url)
        client = guarded_client()
        request = client.build_request("POST", url, content=body, headers=headers)
        request.extensions["timeout"] = httpx.Timeout(timeout).as_dict()
        response = client.send(request, stream=True)
        try:
            excerpt = _excerpt(response, started + timeout)
        finally:
            response.close()
    except BlockedAddress as exc:
        return Outcome(ok=False, elapsed_ms=elapsed(), error=exc.message, retryable=False)
    except httpx.TimeoutException:
        return Outcome(ok=False, elapsed_ms=elapsed(), error=f"Timed out after {timeout:g}s")
    except (httpx.HTTPError, OSError) as exc:
        return Outcome(ok=False, elapsed_ms=elapsed(), error=f"{type(exc).__name__}: {exc}"[:1000])
    status = response.status_code
    ok = 200 <= status < 300
    error = "" if ok else f"HTTP {status}" + (" (redirects are not followed)" if 300 <= status < 400 else "")
    return Outcome(ok=ok, status=status, elapsed_ms=elapsed(), body=excerpt, error=error)


def _excerpt(response: httpx.Response, deadline: float) -> str:
    """The first RESPONSE_EXCERPT_BYTES of the body; the rest is not read."""
    buffer = bytearray()
    for chunk in response.iter_bytes():
        buffer += chunk
        if len(buffer) >= RESPONSE_EXCERPT_BYTES or time.monotonic() > deadline:
            break
    return bytes(buffer[:RESPONSE_EXCERPT_BYTES]).decode("utf-8", "replace")


# --- recording -------------------------------------------------------------------------------------------------


@transaction.atomic
def _record(row: WebhookDelivery, outcome: Outcome, url: str) -> str | None:
    locked = WebhookDelivery.objects.select_for_update().filter(pk=row.pk).first()
    if locked is None or locked.status != WebhookDelivery.Status.PENDING:
        return None  # deleted with its subscription, ended by a disable, or recorded by a duplicate attempt
    subscription = (
        WebhookSubscription.objects.select_for_update().filter(pk=locked.subscription_id).first()
        if locked.subscription_id
        else None
    )
    now = clock.now()
    locked.url = url
    locked.response_status = outcome.status
    locked.response_time_ms = outcome.elapsed_ms
    locked.response_body = outcome.body
    locked.error = outcome.error
    locked.completed_at = now
    locked.locked_until = None
    locked.next_attempt_at = None
    counts = subscription is not None and locked.event != Event.PING and outcome.counts
    retry: WebhookDelivery | None = None
    if outcome.ok:
        locked.status = WebhookDelivery.Status.SUCCEEDED
        if counts:
            subscription.failure_count, subscription.last_success_at = 0, now
            subscription.save(update_fields=["failure_count", "last_success_at"])
    else:
        disabled = counts and _count_failure(subscription, locked, now)
        delays = retry_delays()
        if disabled:
            locked.status = WebhookDelivery.Status.FAILED
            locked.error = f"{locked.error}; the webhook was disabled after repeated failures"
        elif not outcome.retryable or locked.event == Event.PING:
            locked.status = WebhookDelivery.Status.FAILED
        elif locked.attempt > len(delays):
            locked.status = WebhookDelivery.Status.GIVEN_UP
        else:
            locked.status = WebhookDelivery.Status.RETRYING
            locked.next_attempt_at = now + timedelta(seconds=delays[locked.attempt - 1])
            retry = _next_attempt(locked)
    locked.save()
    if retry is not None:
        queue_after_commit([retry])
    return locked.status


def _next_attempt(previous: WebhookDelivery) -> WebhookDelivery:
    return WebhookDelivery.objects.create(
        delivery_id=previous.delivery_id,
        owner_id=previous.owner_id,
        subscription_id=previous.subscription_id,
        execution_id=previous.execution_id,
        url=previous.url,
        event=previous.event,
        payload=previous.payload,
        attempt=previous.attempt + 1,
        next_attempt_at=previous.next_attempt_at,
    )


def _count_failure(subscription: WebhookSubscription, failed: WebhookDelivery, now: Any) -> bool:
    """Count a failed attempt; disable the subscription at the limit. Answers whether it was disabled now."""
    subscription.failure_count += 1
    subscription.last_failure_at = now
    limit = settings.FLOWBUILDER_WEBHOOK_DISABLE_AFTER_FAILURES
    if not (limit and subscription.is_active and subscription.failure_count >= limit):
        subscription.save(update_fields=["failure_count", "last_failure_at"])
        return False
    subscription.is_active = False
    subscription.disabled_at = now
    subscription.disabled_reason = (
        f"Disabled after {subscription.failure_count} failed deliveries in a row; the last: {failed.error}"
    )[:500]
    # One save with the audited fields: the audit registry records it as webhook.disabled.
    subscription.save(
        update_fields=["is_active", "disabled_at", "disabled_reason", "failure_count", "last_failure_at", "updated_at"]
    )
    end_pending(subscription, "The webhook was disabled after repeated failures")
    subscription_id = subscription.pk

    def notify() -> None:
        current_app.send_task(NOTIFY_DISABLED_TASK, (str(subscription_id),), queue="default")

    transaction.on_commit(notify)
    return True
