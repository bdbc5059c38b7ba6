"""Definition validation: each rule, with the JSON path it reports."""

from __future__ import annotations

import json

import pytest

from executions.engine.validation import MAX_NODES, validate_definition
from tests.workflows.helpers import edge, linear, node, simple_definition


def errors(definition) -> dict[str, str]:
    return {problem["field"]: problem["message"] for problem in validate_definition(definition).errors}


def test_simple_definition_is_valid():
    report = validate_definition(simple_definition())
    assert report.valid, report.errors
    assert report.warnings == []


def test_unknown_type_with_suggestion():
    definition = linear(node("start", "trigger.manual"), node("fetch", "htp", url="https://example.com"))
    assert errors(definition) == {"definition.nodes[1].type": "Unknown node type 'htp'; did you mean 'http'?"}


def test_config_schema_failures_point_inside_config():
    definition = linear(
        node("start", "trigger.manual"), node("fetch", "http_request", method="FETCH", timeout_seconds=0)
    )
    found = errors(definition)
    assert "definition.nodes[1].config.url" in found  # required
    assert "definition.nodes[1].config.method" in found
    assert "definition.nodes[1].config.timeout_seconds" in found


def test_unknown_config_key():
    definition = linear(node("start", "trigger.manual"), node("t", "transform", value=1, colour="red"))
    assert errors(definition) == {"definition.nodes[1].config.colour": "Unknown setting 'colour'"}


def test_duplicate_ids():
    definition = linear(
        node("start", "trigger.manual"), node("a", "transform", value=1), node("a", "transform", value=2)
    )
    assert "definition.nodes[2].id" in errors(definition)


def test_dangling_edges():
    definition = linear(node("start", "trigger.manual"), node("a", "transform", value=1))
    definition["edges"].append(edge("a", "ghost"))
    definition["edges"].append(edge("nowhere", "a"))
    found = errors(definition)
    assert found["definition.edges[1].target"] == "Edge points to a node that does not exist: 'ghost'"
    assert "definition.edges[2].source" in found


def test_cycle_is_reported_with_its_path():
    definition = linear(
        node("start", "trigger.manual"),
        node("a", "transform", value=1),
        node("b", "transform", value=2),
        node("c", "transform", value=3),
    )
    definition["edges"].append(edge("c", "a"))
    assert errors(definition) == {"definition.edges": "The workflow has a cycle: a → b → c → a"}


def test_self_loop():
    definition = linear(node("start", "trigger.manual"), node("a", "transform", value=1))
    definition["edges"].append(edge("a", "a"))
    assert "definition.edges[1]" in errors(definition)


@pytest.mark.parametrize("count", [0, 2])
def test_exactly_one_trigger(count):
    nodes = [node(f"t{i}", "trigger.manual") for i in range(count)] + [node("a", "transform", value=1)]
    found = errors({"nodes": nodes, "edges": []})
    if count == 0:
        assert "none" in found["definition.nodes"]
    else:
        assert "second" in found["definition.nodes[1].type"]


def test_trigger_cannot_have_incoming_edges():
    definition = linear(node("start", "trigger.manual"), node("a", "transform", value=1))
    definition["edges"].append(edge("a", "start"))
    assert "definition.edges[1].target" in errors(definition)


def test_unreachable_node_is_a_warning():
    definition = linear(node("start", "trigger.manual"), node("a", "transform", value=1))
    definition["nodes"].append(node("island", "transform", value=2))
    report = validate_definition(definition)
    assert report.valid
    assert report.warnings == [
        {"field": "definition.nodes[2]", "message": "'island' is not reachable from the trigger; it will never run"}
    ]


def test_ports():
    definition = linear(node("start", "trigger.manual"), node("check", "condition", expression="{{ input.x > 1 }}"))
    definition["nodes"].append(node("yes", "transform", value=1))
    definition["nodes"].append(node("maybe", "transform", value=2))
    definition["nodes"].append(node("unport", "transform", value=3))
    definition["edges"] += [edge("check", "yes", "true"), edge("check", "maybe", "perhaps"), edge("check", "unport")]
    found = errors(definition)
    assert found["definition.edges[2].source_port"].startswith("'check' has no output port 'perhaps'")
    assert found["definition.edges[3].source_port"] == "'check' has several outputs; choose one of: false, true"
    assert len(found) == 2


def test_error_port_needs_on_error():
    definition = linear(node("start", "trigger.manual"), node("a", "http_request", url="https://example.com"))
    definition["nodes"].append(node("handler", "transform", value="failed"))
    definition["edges"].append(edge("a", "handler", "error"))
    assert "error_port" in errors(definition)["definition.edges[1].source_port"]
    definition["nodes"][1]["on_error"] = "error_port"
    assert errors(definition) == {}


def test_expression_syntax_errors_are_located():
    definition = linear(node("start", "trigger.manual"), node("t", "transform", value={"a": ["ok", "{{ input.x + }}"]}))
    found = errors(definition)
    assert list(found) == ["definition.nodes[1].config.value.a[1]"]
    assert found["definition.nodes[1].config.value.a[1]"].startswith("Expression does not parse")


def test_script_code_is_not_a_template():
    definition = linear(node("start", "trigger.manual"), node("s", "script", code="output = {'a': {{1}}}"))
    assert errors(definition) == {}


def test_reference_to_a_step_that_runs_later_is_an_error_at_the_field():
    definition = linear(
        node("start", "trigger.manual"),
        node("a", "transform", value="{{ steps.b.output }}"),
        node("b", "transform", value=1),
    )
    assert errors(definition) == {
        "definition.nodes[1].config.value": "'a' uses steps.b, which cannot have run before it (no path leads from it)"
    }


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("{{ stpes.a.output }}", "Unknown name 'stpes'; did you mean 'steps'?"),
        ("{{ inptu.x }}", "Unknown name 'inptu'; did you mean 'input'?"),
        ("{{ steps.fetc.output }}", "There is no node 'fetc'; did you mean 'fetch'?"),
        ("{{ steps.zzz.output }}", "There is no node 'zzz'"),
        ("{{ steps.out.output }}", "'out' uses its own output (steps.out); it has none while it runs"),
    ],
)
def test_expressions_naming_what_cannot_be_there_are_refused(value, message):
    definition = linear(
        node("start", "trigger.manual"),
        node("fetch", "transform", value=1),
        node("out", "transform", value={"x": value}),
    )
    found = errors(definition)
    assert list(found) == ["definition.nodes[2].config.value.x"]
    assert found["definition.nodes[2].config.value.x"].startswith(message)


def test_names_an_expression_sets_itself_and_jinja_globals_are_known():
    value = "{% set total = input.n * 2 %}{{ total }} {{ range(3) | list }} {% for s in steps %}{{ s }}{% endfor %}"
    definition = linear(node("start", "trigger.manual"), node("t", "transform", value=value))
    assert errors(definition) == {}


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"cron": "61 * * * *"}, "cron"),
        ({"cron": "every day"}, "cron"),
        ({"cron": "* * * * * *"}, "cron"),
        ({"cron": "0 9 * * 1-5", "timezone": "Mars/Olympus"}, "timezone"),
    ],
)
def test_schedule_trigger(config, field):
    definition = linear(node("start", "trigger.schedule", **config), node("a", "transform", value=1))
    assert f"definition.nodes[0].config.{field}" in errors(definition)


def test_limits():
    too_many = linear(node("start", "trigger.manual"), *[node(f"n{i}", "transform", value=i) for i in range(MAX_NODES)])
    assert "at most 500" in errors(too_many)["definition.nodes"]
    big = linear(node("start", "trigger.manual"), node("a", "transform", value="x" * 1_100_000))
    assert "limit is 1,000,000" in errors(big)["definition"]


def test_node_envelope():
    definition = linear(node("start", "trigger.manual"), node("a", "transform", value=1))
    definition["nodes"][1].update({"retry": {"max_attempts": 0}, "on_error": "explode", "timeout_seconds": -1})
    definition["nodes"][1]["id"] = "has spaces"
    found = errors(definition)
    assert {
        "definition.nodes[1].retry.max_attempts",
        "definition.nodes[1].on_error",
        "definition.nodes[1].timeout_seconds",
        "definition.nodes[1].id",
    } <= set(found)


def test_settings():
    definition = simple_definition()
    definition["settings"] = {"max_concurrency": 0, "concurrency_policy": "panic", "timeout_seconds": 60}
    assert set(errors(definition)) == {"definition.settings.max_concurrency", "definition.settings.concurrency_policy"}


@pytest.mark.parametrize("bad", [None, [], "nodes", {"nodes": []}, {"nodes": "x"}, {"nodes": [1, "a"]}, {"edges": []}])
def test_garbage_never_raises(bad):
    assert not validate_definition(bad).valid


def test_reports_everything_at_once():
    definition = linear(node("start", "trigger.manual"), node("a", "htp"), node("a", "transform"))
    definition["edges"].append(edge("a", "ghost"))
    assert len(errors(definition)) >= 3


class TestNormalisation:
    def test_react_flow_seed(self):
        seed = {
            "nodes": [
                {"id": "input_1", "type": "input", "data": {"label": "Topic", "type": "text"}},
                {"id": "t", "type": "transform", "data": {"label": "Upper", "value": "{{ input.topic | upper }}"}},
                {"id": "output_1", "type": "output", "data": {"label": "Generated Post"}},
            ],
            "connections": [{"source": "input_1", "target": "t"}, {"source": "t", "target": "output_1"}],
        }
        report = validate_definition(seed)
        assert report.valid, report.errors
        first = report.definition["nodes"][0]
        assert first == {"id": "input_1", "type": "trigger.manual", "name": "Topic", "config": {}}
        assert report.definition["nodes"][1]["config"] == {"value": "{{ input.topic | upper }}"}
        assert [(e["source"], e["target"]) for e in report.definition["edges"]] == [("input_1", "t"), ("t", "output_1")]
        assert any("Dropped 'type'" in w["message"] for w in report.warnings)

    def test_step_list_with_depends_on_gets_a_trigger(self):
        seed = {
            "version": "1.0",
            "steps": [
                {
                    "id": "step1",
                    "name": "HTTP Request",
                    "type": "http",
                    "config": {"url": "https://api.example.com/data", "method": "GET"},
                    "depends_on": [],
                },
                {"id": "step2", "type": "script", "config": {"code": "output = inputs"}, "depends_on": ["step1"]},
            ],
            "connections": [{"from": "step1", "to": "step2"}],
            "variables": {"api_base": "https://api.example.com"},
        }
        report = validate_definition(seed)
        assert report.valid, report.errors
        types = [n["type"] for n in report.definition["nodes"]]
        assert types == ["trigger.manual", "http_request", "script"]
        pairs = sorted((e["source"], e["target"]) for e in report.definition["edges"])
        assert pairs == [("step1", "step2"), ("trigger", "step1")]
        assert report.definition["variables"] == {"api_base": "https://api.example.com"}

    def test_canonical_is_unchanged(self):
        definition = simple_definition()
        assert validate_definition(definition).definition == definition

    def test_normalised_output_is_json(self):
        json.dumps(validate_definition(simple_definition()).definition)
