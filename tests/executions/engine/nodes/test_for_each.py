"""``for_each``: one child run per item (bounded parallelism); the step's output lists their results in order."""

from __future__ import annotations

import pytest

from executions.models import Execution
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def test_one_child_per_item_in_order(run_node, user):
    square = workflow_create(
        owner=user,
        name="square",
        definition=linear(node("s", "trigger.manual"), node("sq", "transform", value="{{ input.n * input.n }}")),
    )
    execution, step = run_node(
        "for_each",
        {"items": "{{ input.numbers }}", "workflow_id": str(square.pk), "input": {"n": "{{ item }}"}},
        input_data={"numbers": [1, 2, 3]},
    )
    assert execution.status == "completed", step.error
    children = Execution.objects.filter(parent=execution).order_by("child_index")
    assert [(c.child_index, c.trigger, c.status) for c in children] == [
        (0, "for_each", "completed"),
        (1, "for_each", "completed"),
        (2, "for_each", "completed"),
    ]
    assert step.output == [{"sq": 1}, {"sq": 4}, {"sq": 9}]
