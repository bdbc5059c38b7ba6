"""``webhook_response``: what a webhook call with ``respond: when_done`` answers (status, headers, body)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_its_output_is_the_reply(run_node):
    execution, step = run_node(
        "webhook_response",
        {"status": 201, "headers": {"X-Order": "order-{{ input.id }}"}, "body": {"id": "{{ input.id }}"}},
        input_data={"id": 7},
    )
    assert execution.status == "completed"
    assert step.output == {"status": 201, "headers": {"X-Order": "order-7"}, "body": {"id": 7}}


def test_a_status_out_of_range_fails_the_step(run_node):
    execution, step = run_node("webhook_response", {"status": "{{ input.code }}"}, input_data={"code": 99})
    assert (execution.status, step.status) == ("failed", "failed")
    assert "config.status" in step.error["message"]
