"""``manage.py purge_executions --older-than 30d``."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import timezone

from audit.models import AuditEvent
from executions.models import Execution, ExecutionLog, StepRun
from flowbuilder.durations import parse_duration
from tests.factories import ExecutionFactory, WorkflowFactory

pytestmark = pytest.mark.django_db


def purge(*args: str) -> str:
    out = StringIO()
    call_command("purge_executions", *args, stdout=out)
    return out.getvalue()


def aged(status: str, days: float, **fields) -> Execution:
    execution = ExecutionFactory(status=status, **fields)
    Execution.objects.filter(pk=execution.pk).update(created_at=timezone.now() - timedelta(days=days))
    StepRun.objects.create(execution=execution, node_id="start", node_type="trigger.manual", status="completed")
    ExecutionLog.objects.create(execution=execution, message="hi")
    return execution


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("30d", timedelta(days=30)),
        ("12h", timedelta(hours=12)),
        ("45m", timedelta(minutes=45)),
        (" 2D ", timedelta(days=2)),
    ],
)
def test_durations(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["30", "30s", "d", "-3d", "0h", "1.5d", "", "30 days"])
def test_bad_durations(text):
    with pytest.raises(ValueError, match=r"duration like|more than zero"):
        parse_duration(text)
    with pytest.raises(CommandError, match="--older-than"):
        purge("--older-than", text)


def test_purges_finished_old_runs_with_their_steps_logs_and_children():
    workflow = WorkflowFactory()
    old_done = aged(Execution.Status.COMPLETED, 40, workflow=workflow)
    old_failed = aged(Execution.Status.FAILED, 31, workflow=workflow)
    child = aged(Execution.Status.COMPLETED, 40, workflow=workflow, parent=old_failed)
    old_active = aged(Execution.Status.WAITING, 90, workflow=workflow)
    recent = aged(Execution.Status.COMPLETED, 2, workflow=workflow)
    retry = aged(Execution.Status.COMPLETED, 1, workflow=workflow, retry_of=old_failed)

    assert purge("--older-than", "30d", "--dry-run") == "Would delete 2 finished run(s) older than 30d.\n"
    assert Execution.objects.count() == 6

    assert purge("--older-than", "30d", "--batch-size", "1") == "Deleted 2 finished run(s) older than 30d.\n"
    remaining = set(Execution.objects.values_list("pk", flat=True))
    assert remaining == {old_active.pk, recent.pk, retry.pk}
    assert not StepRun.objects.filter(execution_id__in=[old_done.pk, old_failed.pk, child.pk]).exists()
    assert not ExecutionLog.objects.filter(execution_id__in=[old_done.pk, old_failed.pk, child.pk]).exists()
    retry.refresh_from_db()
    assert retry.retry_of_id is None
    event = AuditEvent.objects.get(action="executions.purged")
    assert (event.source, event.changes["deleted"]) == ("cli", 2)

    assert purge("--older-than", "36h") == "Deleted 1 finished run(s) older than 36h.\n"
    assert set(Execution.objects.values_list("pk", flat=True)) == {old_active.pk, retry.pk}


def test_nothing_to_purge_records_nothing():
    assert purge("--older-than", "1m") == "Deleted 0 finished run(s) older than 1m.\n"
    assert not AuditEvent.objects.filter(action="executions.purged").exists()


def test_older_than_is_required():
    with pytest.raises(CommandError, match="--older-than"):
        call_command("purge_executions")
