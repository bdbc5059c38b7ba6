"""Substituting parameter values into definitions: typing, escaping, where placeholders count."""

from __future__ import annotations

import pytest

from executions.engine import expressions
from templates_app.substitution import (
    PlaceholderError,
    escape_text,
    placeholder_problems,
    replace_literals,
    scan,
    substitute,
)
from tests.workflows.helpers import linear, node

NASTY = [
    "{{ ''.__class__ }}",
    "{{ 7 * 7 }}",
    "{% raw %}",
    "{% endraw %}{{ 7 * 7 }}",
    "{%- endraw -%}{{ input }}",
    "{%",
    "{#",
    "{",
    "}}",
    "%}",
    "a{%%}b",
    "it's \"quoted\" and 'single'",
    "{{ input.secret }}",
    "{% for x in range(3) %}x{% endfor %}",
    "line one\nline two\n",
    "50% #general",
    "",
]


def render(value, **context):
    return expressions.render(value, expressions.build_context(input=context, steps={}))


def one_node(**config):
    return linear(node("start", "trigger.manual"), node("out", "output", **config))


@pytest.mark.parametrize("value", NASTY)
def test_escaped_text_renders_to_itself(value):
    assert render("Hi " + escape_text(value) + "!") == f"Hi {value}!"


@pytest.mark.parametrize("value", NASTY)
def test_values_stay_data_wherever_they_are_inserted(value):
    definition = one_node(
        value={
            "whole": "{{ who }}",
            "inside": "<{{ who }}>",
            "twice": "{{ who }}{{ who }}",
            "runtime": "{{ who }} and {{ input.x }}",
            "list": ["{{ who }}", "x {{ who }}"],
        }
    )
    config = substitute(definition, {"who": value}).definition["nodes"][1]["config"]
    rendered = render(config["value"], x=5)
    assert rendered == {
        "whole": value,
        "inside": f"<{value}>",
        "twice": value + value,
        "runtime": f"{value} and 5",
        "list": [value, f"x {value}"],
    }


def test_whole_placeholders_keep_their_type():
    definition = linear(
        node("start", "trigger.manual"),
        node("wait", "delay", seconds="{{ seconds }}"),
        node("out", "output", value={"flag": "{{ flag }}", "data": "{{ data }}", "text": " {{ n }} "}),
    )
    definition["nodes"][1]["retry"] = {"max_attempts": "{{ attempts }}"}
    definition["variables"] = {"limit": "{{ n }}", "label": "n = {{ n }}"}
    values = {"seconds": 30, "flag": False, "data": {"a": [1, "{{ x }}"]}, "n": 2.5, "attempts": 3}
    result = substitute(definition, values).definition
    assert result["nodes"][1]["config"] == {"seconds": 30}
    assert result["nodes"][1]["retry"] == {"max_attempts": 3}
    out = result["nodes"][2]["config"]["value"]
    assert out["flag"] is False
    assert out["text"] == 2.5
    # A JSON value in a rendered place has its strings escaped too.
    assert render(out["data"]) == {"a": [1, "{{ x }}"]}
    # Variables are never rendered: values go in as they are.
    assert result["variables"] == {"limit": 2.5, "label": "n = 2.5"}


def test_runtime_expressions_and_undeclared_names_are_left_alone():
    text = "{{ input.x }} {{ steps.a.output }} {{ vars.y }} {{ item }} {{ other }}"
    definition = one_node(value=text)
    assert substitute(definition, {"who": "x"}).definition["nodes"][1]["config"]["value"] == text


def test_optional_parameters_without_value_leave_the_setting_out():
    definition = linear(
        node("start", "trigger.manual"),
        node("mail", "email", to="a@example.com", subject="s", body="b {{ cc }}", cc="{{ cc }}"),
    )
    result = substitute(definition, {"cc": None})
    assert result.definition["nodes"][1]["config"] == {"to": "a@example.com", "subject": "s", "body": "b "}
    assert result.names_at("definition.nodes[1].config.cc") == {"cc"}


def test_script_code_and_condition_expressions_take_no_placeholders():
    definition = linear(
        node("start", "trigger.manual"),
        node("run", "script", code="output = '{{ who }}'", inputs={"who": "{{ who }}"}),
        node("check", "condition", expression="{{ input.x == '{{ who }}' }}"),
    )
    result = substitute(definition, {"who": "x"}).definition
    assert result["nodes"][1]["config"] == {"code": "output = '{{ who }}'", "inputs": {"who": "x"}}
    assert result["nodes"][2]["config"]["expression"] == "{{ input.x == '{{ who }}' }}"
    problems = {p["field"]: p["message"] for p in placeholder_problems(definition, {"who"})}
    assert "not a template" in problems["definition.nodes[1].config.code"]
    assert "takes no parameters" in problems["definition.nodes[2].config.expression"]


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("{{ input.x ~ '{{ who }}' }}", "inside another expression, a string or a comment"),
        ("{# {{ who }} #} x", "inside another expression, a string or a comment"),
        ("{{ who | upper }}", "used inside an expression"),
        ("{% set who = 1 %}{{ input.x }}", "used inside an expression"),
        ("x{{{ who }}", "directly follows '{'"),
        ("{{ who }} {{ input.x ", "does not parse"),
        ("{{ companions.per_item | lower }}", "companions.<key>"),
    ],
)
def test_placeholders_that_are_not_on_their_own_are_refused(text, problem):
    definition = one_node(value=text)
    with pytest.raises(PlaceholderError) as caught:
        substitute(definition, {"who": "x", "companions.per_item": "id"})
    assert problem in caught.value.message
    assert caught.value.path == "definition.nodes[1].config.value"
    assert any(problem in p["message"] for p in placeholder_problems(definition, {"who", "companions.per_item"}))


def test_unknown_names_are_reported_when_the_template_is_checked():
    definition = one_node(value="{{ whoo }} {{ input.x }} {{ range(3) | list }}")
    problems = placeholder_problems(definition, {"who"})
    assert problems == [
        {
            "field": "definition.nodes[1].config.value",
            "message": "'whoo' is neither a parameter of the template (the parameters are: who) nor a run-time "
            "name (input, steps, vars, execution, item, index)",
        }
    ]


def test_scan_finds_only_real_placeholders():
    found = scan("a {{ who }} {% raw %}{{ input }}{% endraw %} {{ 'x' }} {{ who }}", frozenset({"who"}))
    assert found.problem is None
    assert [name for _, _, name in found.spans] == ["who", "who"]


def test_origins_point_errors_at_parameters():
    definition = linear(
        node("start", "trigger.manual"), node("out", "output", value={"a": "{{ p }}", "b": "x {{ q }}"})
    )
    result = substitute(definition, {"p": {"deep": [1]}, "q": "y"})
    assert result.names_at("definition.nodes[1].config.value.a.deep[0]") == {"p"}
    assert result.names_at("definition.nodes[1].config.value.b") == {"q"}
    assert result.names_at("definition.nodes[1].config") == {"p", "q"}
    assert result.names_at("definition.nodes") == set()


class TestReplaceLiterals:
    def test_whole_values_and_text_become_placeholders(self):
        definition = linear(
            node("start", "trigger.manual"),
            node(
                "call",
                "http_request",
                url="https://api.example.com/items/{{ input.id }}",
                headers={"X-Team": "ops"},
                timeout_seconds=30,
            ),
            node("out", "output", value="Mail ops@example.com about {{ steps.call.output.status }}"),
        )
        result, counts = replace_literals(
            definition,
            [("https://api.example.com", "base_url"), (30, "timeout"), ("ops@example.com", "mail"), ("ops", "team")],
        )
        config = result["nodes"][1]["config"]
        assert config["url"] == "{{ base_url }}/items/{{ input.id }}"
        assert config["timeout_seconds"] == "{{ timeout }}"
        assert config["headers"] == {"X-Team": "{{ team }}"}
        # "ops" inside the already replaced address is not replaced again.
        assert result["nodes"][2]["config"]["value"] == "Mail {{ mail }} about {{ steps.call.output.status }}"
        assert counts == [1, 1, 1, 1]

    def test_literals_inside_expressions_and_code_are_left_alone(self):
        definition = linear(
            node("start", "trigger.manual"),
            node("run", "script", code="output = 'acme'"),
            node("check", "condition", expression="{{ input.name == 'acme' }}"),
            node("out", "output", value="{{ input.name == 'acme' }}"),
        )
        result, counts = replace_literals(definition, [("acme", "name")])
        assert result == definition
        assert counts == [0]

    def test_booleans_are_not_numbers(self):
        definition = one_node(value={"flag": True, "one": 1})
        result, counts = replace_literals(definition, [(1, "n")])
        assert result["nodes"][1]["config"]["value"] == {"flag": True, "one": "{{ n }}"}
        assert counts == [1]
