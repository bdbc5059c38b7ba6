"""``switch``: the value goes out on the port of the first case it equals, else on the default port."""

from __future__ import annotations

import pytest

from executions.engine.validation import validate_definition
from tests.workflows.helpers import edge, node

pytestmark = pytest.mark.django_db

CASES = [{"port": "bug", "equals": "bug"}, {"port": "idea", "equals": "idea"}]


@pytest.mark.parametrize(("kind", "port"), [("bug", "bug"), ("idea", "idea"), ("question", "default")])
def test_the_first_equal_case_wins(run_node, kind, port):
    execution, step = run_node("switch", {"value": "{{ input.kind }}", "cases": CASES}, input_data={"kind": kind})
    assert (execution.status, step.output, step.ports) == ("completed", kind, [port])


def test_two_cases_on_one_port_and_the_error_port_are_refused():
    report = validate_definition(
        {
            "nodes": [
                node("start", "trigger.manual"),
                node("s", "switch", value="x", cases=[*CASES, {"port": "bug", "equals": 1}], default_port="error"),
            ],
            "edges": [edge("start", "s")],
        }
    )
    fields = {problem["field"] for problem in report.errors}
    assert "definition.nodes[1].config.cases[2].port" in fields
    assert "definition.nodes[1].config.default_port" in fields
