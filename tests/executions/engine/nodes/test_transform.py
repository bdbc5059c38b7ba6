"""``transform``: a templated value, typed when the template is the whole string."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


def test_a_whole_string_template_keeps_its_type(run_node):
    execution, step = run_node(
        "transform",
        {"value": {"n": "{{ input.n * 2 }}", "tags": "{{ input.tags }}"}},
        input_data={"n": 21, "tags": ["a"]},
    )
    assert (execution.status, step.output) == ("completed", {"n": 42, "tags": ["a"]})


def test_text_around_a_template_is_text(run_node):
    _, step = run_node("transform", {"value": "n={{ input.n }}"}, input_data={"n": 3})
    assert step.output == "n=3"


def test_a_template_that_fails_fails_the_step_at_its_field(run_node):
    execution, step = run_node("transform", {"value": "{{ input.missing.deeper }}"})
    assert (execution.status, step.status) == ("failed", "failed")
    assert "config.value" in step.error["message"]
