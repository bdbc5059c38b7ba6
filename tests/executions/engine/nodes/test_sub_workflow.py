"""``sub_workflow``: runs another workflow as a child run and answers its output."""

from __future__ import annotations

import pytest

from executions.models import Execution
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def test_the_childs_output_is_the_steps_output(run_node, user):
    child = workflow_create(
        owner=user,
        name="double",
        definition=linear(node("s", "trigger.manual"), node("d", "transform", value="{{ input.n * 2 }}")),
    )
    execution, step = run_node(
        "sub_workflow", {"workflow_id": str(child.pk), "input": {"n": "{{ input.n }}"}}, input_data={"n": 4}
    )
    assert (execution.status, step.output) == ("completed", {"d": 8})
    kid = Execution.objects.get(parent=execution)
    assert (kid.trigger, kid.status, kid.input_data) == ("sub_workflow", "completed", {"n": 4})


def test_another_users_workflow_is_not_found(run_node, make_user):
    theirs = workflow_create(owner=make_user(), name="theirs", definition=linear(node("s", "trigger.manual")))
    execution, step = run_node("sub_workflow", {"workflow_id": str(theirs.pk)})
    assert (execution.status, step.status) == ("failed", "failed")
    assert step.error["message"] == f"Workflow '{theirs.pk}' not found"
    assert not Execution.objects.filter(workflow=theirs).exists()
