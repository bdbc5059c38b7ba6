"""``trigger.manual``: a run's start; its ``input_schema`` refuses input that does not fit, at the field."""

from __future__ import annotations

import pytest

from executions.services import execution_start
from flowbuilder.api.errors import ValidationFailed
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db

SCHEMA = {"type": "object", "required": ["email"], "properties": {"email": {"type": "string"}}}


def test_input_that_fits_starts_the_run_and_is_the_triggers_output(inline_engine, user):
    workflow = workflow_create(
        owner=user, name="m", definition=linear(node("start", "trigger.manual", input_schema=SCHEMA))
    )
    execution = inline_engine.run(workflow, {"email": "a@example.com"})
    assert execution.status == "completed"
    assert execution.steps.get(node_id="start").output == {"email": "a@example.com"}


def test_input_that_does_not_fit_is_refused_and_nothing_runs(user):
    workflow = workflow_create(
        owner=user, name="m", definition=linear(node("start", "trigger.manual", input_schema=SCHEMA))
    )
    with pytest.raises(ValidationFailed) as refused:
        execution_start(workflow=workflow, input_data={"email": 5})
    assert refused.value.details[0]["field"] == "input_data.email"
    assert not workflow.executions.exists()
