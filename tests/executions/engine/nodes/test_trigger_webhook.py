"""``trigger.webhook``: a run started by a call to ``/hooks/<token>``; the request is the run's input."""

from __future__ import annotations

import pytest

from executions.models import Execution
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def test_a_call_starts_a_run_with_the_request_as_input(client, user, inline_engine):
    workflow = workflow_create(
        owner=user,
        name="hook",
        definition=linear(
            node("hook", "trigger.webhook", method="POST"), node("t", "transform", value="{{ input.body.order }}")
        ),
    )
    response = inline_engine.drive(
        lambda: client.post(f"/hooks/{workflow.webhook_token}?src=shop", {"order": 12}, content_type="application/json")
    )
    assert response.status_code == 202, response.content
    execution = Execution.objects.get(workflow=workflow)
    assert (execution.trigger, execution.input_data["query"], execution.input_data["body"]) == (
        "webhook",
        {"src": "shop"},
        {"order": 12},
    )
    execution.refresh_from_db()
    assert execution.output_data == {"t": 12}


def test_another_method_is_refused(client, user):
    workflow = workflow_create(
        owner=user, name="hook", definition=linear(node("hook", "trigger.webhook", method="POST"))
    )
    assert client.get(f"/hooks/{workflow.webhook_token}").status_code == 405
    assert not Execution.objects.filter(workflow=workflow).exists()
