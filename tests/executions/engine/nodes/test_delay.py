"""``delay``: waits for seconds or until a time, holding no worker; woken by a countdown or the sweep."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.engine.validation import validate_definition
from tests.workflows.helpers import linear, node

pytestmark = pytest.mark.django_db


def test_a_delay_waits_until_its_time(run_node):
    before = timezone.now()
    execution, step = run_node("delay", {"seconds": 120})
    assert (execution.status, step.status) == ("waiting", "waiting")
    assert before + timedelta(seconds=119) < step.wake_at < timezone.now() + timedelta(seconds=121)


def test_until_in_the_past_does_not_wait(run_node):
    execution, step = run_node("delay", {"until": "2000-01-01T00:00:00Z"})
    assert (execution.status, step.status) == ("completed", "completed")


def test_seconds_and_until_together_or_a_naive_time_are_refused():
    both = validate_definition(
        linear(node("start", "trigger.manual"), node("d", "delay", seconds=1, until="2030-01-01T00:00:00Z"))
    )
    naive = validate_definition(
        linear(node("start", "trigger.manual"), node("d", "delay", until="2030-01-01T09:00:00"))
    )
    assert not both.valid
    assert any("UTC offset" in problem["message"] for problem in naive.errors)
