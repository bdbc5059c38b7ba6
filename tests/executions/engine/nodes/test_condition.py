"""``condition``: an expression decides the ``true`` or ``false`` port; the other branch is skipped."""

from __future__ import annotations

import pytest

from executions.engine.validation import validate_definition
from tests.workflows.helpers import edge, node

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("amount", "port"), [(150, "true"), (50, "false")])
def test_the_expression_picks_the_port(run_node, amount, port):
    execution, step = run_node("condition", {"expression": "{{ input.amount > 100 }}"}, input_data={"amount": amount})
    assert (execution.status, step.ports) == ("completed", [port])


def test_the_untaken_side_is_skipped(inline_engine, user):
    from workflows.services import workflow_create

    definition = {
        "nodes": [
            node("start", "trigger.manual"),
            node("big", "condition", expression="input.amount > 100"),
            node("yes", "transform", value="big"),
            node("no", "transform", value="small"),
        ],
        "edges": [edge("start", "big"), edge("big", "yes", "true"), edge("big", "no", "false")],
    }
    execution = inline_engine.run(workflow_create(owner=user, name="c", definition=definition), {"amount": 5})
    assert dict(execution.steps.values_list("node_id", "status"))["yes"] == "skipped"
    assert execution.output_data == {"no": "small"}


def test_an_edge_from_a_port_it_does_not_have_is_refused():
    report = validate_definition(
        {
            "nodes": [
                node("start", "trigger.manual"),
                node("c", "condition", expression="true"),
                node("x", "transform", value=1),
            ],
            "edges": [edge("start", "c"), edge("c", "x", "maybe")],
        }
    )
    assert not report.valid
    assert any("maybe" in problem["message"] for problem in report.errors)
