"""``output``: sets the run's output; without one the run's output is its leaves' outputs by id."""

from __future__ import annotations

import pytest

from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def test_the_value_becomes_the_runs_output(run_node):
    execution, step = run_node("output", {"value": {"total": "{{ input.a + input.b }}"}}, input_data={"a": 1, "b": 2})
    assert (step.output, execution.output_data) == ({"total": 3}, {"total": 3})


def test_without_a_value_it_passes_on_what_reached_it(inline_engine, user):
    definition = linear(node("start", "trigger.manual"), node("t", "transform", value=[1, 2]), node("out", "output"))
    execution = inline_engine.run(workflow_create(owner=user, name="o", definition=definition))
    assert execution.output_data == [1, 2]


def test_an_output_node_wins_over_the_leaves(inline_engine, user):
    definition = {
        **linear(
            node("start", "trigger.manual"),
            node("out", "output", value="chosen"),
            node("leaf", "transform", value="leaf"),
        ),
    }
    execution = inline_engine.run(workflow_create(owner=user, name="o", definition=definition))
    assert execution.output_data == "chosen"
