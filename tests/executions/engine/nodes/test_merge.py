"""``merge``: branches join into ``{source id: output}``; ``first`` goes on with the first to arrive."""

from __future__ import annotations

import pytest

from tests.workflows.helpers import edge, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def fan_in(mode: str) -> dict:
    return {
        "nodes": [
            node("start", "trigger.manual"),
            node("a", "transform", value="A"),
            node("b", "transform", value="B"),
            node("m", "merge", mode=mode),
        ],
        "edges": [edge("start", "a"), edge("start", "b"), edge("a", "m"), edge("b", "m")],
    }


def test_wait_all_outputs_every_branch_by_id(inline_engine, user):
    execution = inline_engine.run(workflow_create(owner=user, name="m", definition=fan_in("wait_all")))
    assert (execution.status, execution.output_data) == ("completed", {"m": {"a": "A", "b": "B"}})


def test_first_goes_on_with_the_first_branch_while_the_other_still_waits(inline_engine, user):
    definition = fan_in("first")
    definition["nodes"][2] = node("b", "delay", seconds=3600)
    execution = inline_engine.run(workflow_create(owner=user, name="m", definition=definition))
    steps = {s.node_id: s for s in execution.steps.all()}
    assert (steps["b"].status, steps["m"].status, steps["m"].output) == ("waiting", "completed", {"a": "A"})
