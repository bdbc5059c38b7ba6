"""The Celery boundary of outgoing webhooks: thin tasks that take ids (queue ``default``).

``deliver`` is idempotent (the attempt claims its row with a conditional
update), acknowledged late and rejected if its worker dies: a lost attempt is
found again by ``sweep`` once its lease runs out.
"""

from __future__ import annotations

from celery import shared_task

from webhooks import delivery, notifications

TASK = {"acks_late": True, "reject_on_worker_lost": True, "ignore_result": True, "queue": "default"}


@shared_task(name=delivery.DELIVER_TASK, **TASK)
def deliver(delivery_pk: str) -> None:
    delivery.deliver(delivery_pk)


@shared_task(name="webhooks.sweep", **TASK)
def sweep() -> int:
    """Queue due retries and lost attempts (beat, every FLOWBUILDER_WEBHOOK_DELIVERY_SWEEP_SECONDS)."""
    return delivery.sweep()


@shared_task(name="webhooks.purge_deliveries", **TASK)
def purge_deliveries() -> int:
    """Delete finished attempts past FLOWBUILDER_WEBHOOK_DELIVERY_RETENTION_DAYS (beat, daily)."""
    return delivery.purge()


# SMTP errors are OSErrors: tried again a few times, a minute apart and more.
@shared_task(name=delivery.NOTIFY_DISABLED_TASK, autoretry_for=(OSError,), retry_backoff=60, max_retries=3, **TASK)
def notify_disabled(subscription_id: str) -> None:
    notifications.disabled_notify(subscription_id)
