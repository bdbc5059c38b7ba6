"""A parameter value is data: whatever markup it holds comes out of a real run as the literal text."""

from __future__ import annotations

import pytest

from executions.models import Execution
from templates_app.parameters import ParameterSpec
from templates_app.services import template_create, template_instantiate
from tests.workflows.helpers import edge, linear, node

pytestmark = pytest.mark.django_db

VALUES = [
    "{{ ''.__class__ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ input.secret }}",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "{% endraw %}{{ input.secret }}",
    "{%- endraw %}{{ input.secret }}{% raw -%}",
    "{% for i in range(3) %}{{ i }}{% endfor %}",
    "{# a comment #}",
    "{",
    "}} {{",
    "it's \"quoted\" and 'single'",
    "' ~ input.secret ~ '",
]


@pytest.fixture
def tiny(user):
    return template_create(
        owner=user,
        name="Echo",
        definition=linear(
            node("start", "trigger.manual"),
            node("shape", "transform", value={"whole": "{{ who }}", "text": "Hi {{ who }}!", "list": ["{{ who }}"]}),
            node(
                "out",
                "output",
                value={
                    "shaped": "{{ steps.shape.output }}",
                    "direct": "<{{ who }}> and {{ input.visible }}",
                    "variable": "{{ vars.who }}",
                },
            ),
        )
        | {"variables": {"who": "{{ who }}"}},
        parameters=[ParameterSpec(name="who", is_required=True)],
    )


@pytest.mark.parametrize("value", VALUES)
def test_values_render_literally_in_a_run(inline_engine, tiny, user, value):
    workflow = template_instantiate(template=tiny, owner=user, parameter_values={"who": value}).workflow
    execution = inline_engine.run(workflow, {"secret": "TOP-SECRET", "visible": "shown"}, mode=Execution.Mode.DRY_RUN)
    assert execution.status == "completed", execution.error
    assert execution.output_data == {
        "shaped": {"whole": value, "text": f"Hi {value}!", "list": [value]},
        "direct": f"<{value}> and shown",
        "variable": value,
    }


@pytest.mark.parametrize("value", ["{{ item }}", "{{ input.secret }}", "{% raw %}x", "a 'b' \"c\""])
def test_values_stay_literal_in_a_for_each_items_input(inline_engine, user, value):
    """for_each renders its ``input`` later, once per item: the value must still be data then."""
    template = template_create(
        owner=user,
        name="Loop",
        parameters=[ParameterSpec(name="label", is_required=True)],
        companions=[
            {
                "key": "child",
                "name": "child",
                "definition": linear(node("start", "trigger.manual"), node("out", "output", value="{{ input }}")),
            }
        ],
        definition={
            "nodes": [
                node("start", "trigger.manual"),
                node(
                    "loop",
                    "for_each",
                    items=[10, 20],
                    workflow_id="{{ companions.child }}",
                    input={"label": "{{ label }} #{{ index }}", "item": "{{ item }}"},
                ),
            ],
            "edges": [edge("start", "loop")],
        },
    )
    workflow = template_instantiate(template=template, owner=user, parameter_values={"label": value}).workflow
    execution = inline_engine.run(workflow, {"secret": "TOP-SECRET"}, mode=Execution.Mode.DRY_RUN)
    assert execution.status == "completed", execution.error
    assert execution.output_data == {
        "loop": [{"label": f"{value} #0", "item": 10}, {"label": f"{value} #1", "item": 20}]
    }
