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
