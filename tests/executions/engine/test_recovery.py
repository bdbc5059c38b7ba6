"""The recovery sweep keeps going past an item it cannot handle."""

from __future__ import annotations

import logging
from datetime import timedelta

import pytest
from django.utils import timezone

from executions.engine import recovery
from executions.models import Execution, StepRun
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def test_one_poisoned_run_does_not_stop_the_sweep(inline_engine, user, caplog):
    definition = linear(
        node("start", "trigger.manual"),
        node("wait", "delay", seconds=3600),
        node("after", "transform", value="done"),
    )
    workflow = workflow_create(owner=user, name="waits", definition=definition)
    poisoned, healthy, overdue = (inline_engine.run(workflow) for _ in range(3))
    past = timezone.now() - timedelta(seconds=1)
    StepRun.objects.filter(execution__in=[poisoned, healthy], node_id="wait").update(wake_at=past)
    # A row the runner chokes on: its step names a node the pinned definition does not have.
    StepRun.objects.filter(execution=poisoned, node_id="wait").update(node_id="ghost")
    Execution.objects.filter(pk=overdue.pk).update(deadline=past)

    with caplog.at_level(logging.ERROR, logger="executions.engine.recovery"):
        report = inline_engine.drive(recovery.sweep)

    assert (report.woken, report.timed_out) == (1, 1)
    healthy.refresh_from_db()
    overdue.refresh_from_db()
    assert (healthy.status, healthy.output_data) == ("completed", {"after": "done"})
    assert overdue.status == "timed_out"
    assert f"Recovery sweep: woken failed for {poisoned.steps.get(node_id='ghost').pk}" in caplog.text
    poisoned.refresh_from_db()
    assert poisoned.status == "waiting"  # untouched: its savepoint was rolled back, nothing half-written


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_row_held_by_a_stuck_transaction_costs_the_sweep_that_row_only(inline_engine, user, settings):
    """A run's start spinning with its row locked must not stop every other wake-up (PostgreSQL's row locks)."""
    import threading

    from django.db import connection, connections, transaction

    if connection.vendor != "postgresql":
        pytest.skip("row locks are PostgreSQL's")  # make test runs on PostgreSQL; the SQLite run has no row locks
    settings.FLOWBUILDER_MAINTENANCE_LOCK_TIMEOUT_SECONDS = 0.5
    definition = linear(node("start", "trigger.manual"), node("wait", "delay", seconds=3600))
    workflow = workflow_create(owner=user, name="waits", definition=definition)
    held, free = (inline_engine.run(workflow) for _ in range(2))
    StepRun.objects.filter(node_id="wait").update(wake_at=timezone.now() - timedelta(seconds=1))

    locked, release = threading.Event(), threading.Event()

    def stuck_transaction():
        try:
            with transaction.atomic():
                Execution.objects.select_for_update().get(pk=held.pk)
                locked.set()
                release.wait(30)
        finally:
            connections.close_all()

    holder = threading.Thread(target=stuck_transaction)
    holder.start()
    try:
        assert locked.wait(10)
        report = inline_engine.drive(recovery.sweep)
        still_held = holder.is_alive()  # the sweep came back while the row was still locked
    finally:
        release.set()
        holder.join(10)
    assert report.woken == 1
    assert still_held  # it gave up on the held row instead of waiting 30 s for it
    assert Execution.objects.get(pk=free.pk).status == "completed"
    assert Execution.objects.get(pk=held.pk).status == "waiting"  # left for the next sweep
    assert inline_engine.drive(recovery.sweep).woken == 1  # which wakes it once the lock is gone
    assert Execution.objects.get(pk=held.pk).status == "completed"
