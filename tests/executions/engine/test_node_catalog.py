"""The catalog of built-in node types: declarations, config schemas and their semantic checks."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from typing import Any

import pytest
from jsonschema import Draft202012Validator

from executions.engine import registry
from executions.engine.nodes._schema import EXPRESSION
from executions.engine.types import NodeCategory, NodeType

CREDENTIAL_ID = "6f1c2a8e-9b1d-4c3e-8a7f-0d2e4b6c8a10"
WORKFLOW_ID = "0b9e7c1a-3f2d-4e5b-9c8a-7d6e5f4a3b21"

SPEC_TYPES = {
    "trigger.manual": "trigger_manual",
    "trigger.webhook": "trigger_webhook",
    "trigger.schedule": "trigger_schedule",
    "http_request": "http_request",
    "script": "script",
    "transform": "transform",
    "condition": "condition",
    "switch": "switch",
    "merge": "merge",
    "for_each": "for_each",
    "sub_workflow": "sub_workflow",
    "delay": "delay",
    "approval": "approval",
    "email": "email",
    "llm": "llm",
    "slack": "slack",
    "webhook_response": "webhook_response",
    "output": "output",
}

VALID: dict[str, dict[str, Any]] = {
    "trigger.manual": {"input_schema": {"type": "object", "properties": {"email": {"type": "string"}}}},
    "trigger.webhook": {
        "method": "POST",
        "respond": "when_done",
        "response_timeout_seconds": 10,
        "hmac_credential": CREDENTIAL_ID,
    },
    "trigger.schedule": {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris", "overlap": "queue"},
    "http_request": {
        "method": "POST",
        "url": "https://api.example.com/items/{{ input.id }}",
        "headers": {"X-Trace": "{{ execution.id }}"},
        "query": {"page": 2, "draft": False, "q": "x"},
        "body": {"name": "{{ input.name }}", "tags": ["a"]},
        "body_type": "json",
        "credential": CREDENTIAL_ID,
        "timeout_seconds": 10,
        "follow_redirects": False,
        "max_redirects": 0,
        "fail_on_status": False,
        "response_type": "text",
    },
    "script": {
        "code": "output = {'n': len(inputs['items'])}",
        "inputs": {"items": "{{ input.items }}"},
        "files": {"doc": "{{ input.file.id }}", "logo": WORKFLOW_ID, "whole": {"id": WORKFLOW_ID, "name": "a.png"}},
        "memory_mb": 64,
    },
    "transform": {"value": {"full": "{{ input.first }} {{ input.last }}"}},
    "condition": {"expression": "{{ steps.fetch.output.body.price > 100 }}"},
    "switch": {
        "value": "{{ input.plan }}",
        "cases": [{"port": "pro", "equals": "pro"}, {"port": "free", "equals": None}],
    },
    "merge": {"mode": "first"},
    "for_each": {
        "items": [1, 2, 3],
        "workflow_id": WORKFLOW_ID,
        "input": {"n": "{{ item }}", "i": "{{ index }}"},
        "parallelism": 2,
    },
    "sub_workflow": {"workflow_id": WORKFLOW_ID, "input": {"a": 1}, "wait": False},
    "delay": {"seconds": 1.5},
    "approval": {"message": "Refund {{ input.amount }}?", "approvers": ["boss@example.com"], "timeout_seconds": 3600},
    "email": {
        "to": ["a@example.com", "b@example.com"],
        "cc": "c@example.com",
        "subject": "Hi",
        "body": "Hello",
        "html": "<p>Hello</p>",
    },
    "llm": {
        "credential": CREDENTIAL_ID,
        "model": "gpt-4o-mini",
        "prompt": "Summarise {{ input.text }}",
        "temperature": 0.2,
        "max_tokens": 500,
        "images": ["{{ input.file.id }}", WORKFLOW_ID],
    },
    "slack": {"credential": CREDENTIAL_ID, "text": "Deployed {{ input.version }}", "blocks": [{"type": "section"}]},
    "webhook_response": {"status": 201, "headers": {"Location": "/items/1"}, "body": {"ok": True}},
    "output": {"value": "{{ steps.summary.output }}"},
}

INVALID: list[tuple[str, dict[str, Any]]] = [
    ("trigger.manual", {"input_schema": "not a schema"}),
    ("trigger.manual", {"unknown": 1}),
    ("trigger.webhook", {"method": "TRACE"}),
    ("trigger.webhook", {"response_timeout_seconds": 301}),
    ("trigger.schedule", {"timezone": "UTC"}),
    ("trigger.schedule", {"cron": "0 9 * * *", "overlap": "sometimes"}),
    ("http_request", {"method": "GET"}),
    ("http_request", {"url": "https://x", "timeout_seconds": 0}),
    ("http_request", {"url": "https://x", "max_redirects": 21}),
    ("http_request", {"url": "https://x", "headers": {"X-Count": 5}}),
    ("http_request", {"url": "https://x", "credential": "not-a-uuid"}),
    ("http_request", {"url": "https://x", "body": {"a": 1}, "body_file": WORKFLOW_ID}),
    ("http_request", {"url": "https://x", "body_file": "report.pdf"}),
    ("http_request", {"url": "https://x", "files": {"doc": WORKFLOW_ID}}),
    ("http_request", {"url": "https://x", "body_type": "multipart", "body": "a=1"}),
    ("http_request", {"url": "https://x", "body_type": "multipart", "body_file": WORKFLOW_ID}),
    ("http_request", {"url": "https://x", "body_type": "multipart", "headers": {"content-type": "text/plain"}}),
    ("http_request", {"url": "https://x", "body_type": "multipart", "files": {"doc": []}}),
    ("script", {"inputs": {}}),
    ("script", {"code": "output = 1", "files": {"doc": "report.pdf"}}),
    ("script", {"code": "output = 1", "files": ["{{ input.file.id }}"]}),
    ("script", {"code": "output = 1", "memory_mb": 2048}),
    ("transform", {}),
    ("condition", {"expression": ""}),
    ("switch", {"value": 1, "cases": []}),
    ("switch", {"value": 1, "cases": [{"port": "1bad", "equals": 1}]}),
    ("switch", {"value": 1, "cases": [{"port": "a"}]}),
    ("merge", {"mode": "any"}),
    ("for_each", {"items": [1], "workflow_id": WORKFLOW_ID, "parallelism": 51}),
    ("for_each", {"items": "not an expression", "workflow_id": WORKFLOW_ID}),
    ("for_each", {"items": [], "workflow_id": "my workflow"}),
    ("sub_workflow", {"input": {}}),
    ("delay", {"seconds": -1}),
    ("delay", {"seconds": 2_592_001}),
    ("delay", {}),
    ("approval", {"message": "ok?", "timeout_seconds": 59}),
    ("approval", {"approvers": ["a@example.com"]}),
    ("email", {"to": [], "subject": "s", "body": "b"}),
    ("email", {"to": "a@example.com", "subject": "s"}),
    ("llm", {"prompt": "hi"}),
    ("llm", {"credential": CREDENTIAL_ID, "prompt": "hi", "images": []}),
    ("llm", {"credential": CREDENTIAL_ID, "prompt": "hi", "images": ["cat.png"]}),
    ("llm", {"credential": CREDENTIAL_ID, "prompt": "hi", "temperature": 3}),
    ("llm", {"credential": CREDENTIAL_ID, "messages": [{"role": "robot", "content": "hi"}]}),
    ("slack", {"text": "hi"}),
    ("webhook_response", {"status": 99}),
    ("output", {"value": 1, "extra": 2}),
]


def node(type_name: str) -> NodeType:
    node_type = registry.get(type_name)
    assert node_type is not None, type_name
    return node_type


def schema_errors(type_name: str, config: Mapping[str, Any]) -> list[str]:
    return [error.message for error in Draft202012Validator(node(type_name).config_schema).iter_errors(config)]


def problems(type_name: str, config: Mapping[str, Any]) -> list[Any]:
    """Schema errors and semantic check problems together, as the definition validator reports them."""
    node_type = node(type_name)
    checked = node_type.check(config) if node_type.check else []
    return schema_errors(type_name, config) + checked


def test_every_spec_type_is_registered() -> None:
    assert set(SPEC_TYPES) <= {node_type.type for node_type in registry.all_types()}


@pytest.mark.parametrize(("type_name", "module_name"), SPEC_TYPES.items())
def test_each_module_exposes_its_registered_type(type_name: str, module_name: str) -> None:
    module = importlib.import_module(f"executions.engine.nodes.{module_name}")
    assert module.NODE_TYPE is node(type_name)
    assert module.NODE_TYPE.execute is None or callable(module.NODE_TYPE.execute)


@pytest.mark.parametrize(
    ("alias", "canonical"),
    [
        ("http", "http_request"),
        ("start", "trigger.manual"),
        ("input", "trigger.manual"),
        ("file_input", "trigger.manual"),
        ("ai_model", "llm"),
        ("ai_vision", "llm"),
    ],
)
def test_aliases_resolve(alias: str, canonical: str) -> None:
    assert node(alias).type == canonical


@pytest.mark.parametrize("type_name", SPEC_TYPES)
def test_declaration_is_complete(type_name: str) -> None:
    node_type = node(type_name)
    assert node_type.label
    assert node_type.description.endswith(".")
    assert node_type.category in vars(NodeCategory).values()
    assert node_type.is_trigger == (node_type.category == NodeCategory.TRIGGER)
    if node_type.is_trigger:
        assert node_type.inputs == ()
    for path, schema in properties(node_type.config_schema):
        assert schema.get("title"), f"{type_name}: {path} needs a title"
        assert schema.get("description"), f"{type_name}: {path} needs a description"


def properties(schema: Mapping[str, Any], path: str = "") -> list[tuple[str, Mapping[str, Any]]]:
    """Every property schema under ``schema`` (nested objects, array items, anyOf branches) with its path."""
    found = []
    for name, sub in schema.get("properties", {}).items():
        found.append((f"{path}.{name}", sub))
        found.extend(properties(sub, f"{path}.{name}"))
    for branch in [schema.get("items"), *schema.get("anyOf", [])]:
        if isinstance(branch, Mapping):
            found.extend(properties(branch, path))
    return found


def test_flags_match_the_spec() -> None:
    types = [node(name) for name in SPEC_TYPES]
    # delay and approval only compute a wake time: inline, no broker hop to start waiting
    assert {t.type for t in types if not t.inline} == {
        "http_request", "script", "for_each", "sub_workflow", "email", "llm", "slack",
    }  # fmt: skip
    assert {t.type for t in types if t.side_effects} == {"http_request", "email", "llm", "slack"}
    assert node("condition").outputs == ("true", "false")
    assert node("approval").outputs == ("approved", "rejected")
    assert node("script").raw_fields == {"code"}
    assert node("for_each").deferred_fields == {"input"}
    assert not node("llm").credential_required  # without one, the server's default provider (SPEC §7)
    assert node("llm").credential_types == ("openai_compatible",)
    assert node("slack").credential_types == ("slack_webhook",)
    assert node("email").credential_types == ("smtp",)


@pytest.mark.parametrize("type_name", SPEC_TYPES)
def test_config_schema_is_a_strict_draft_2020_12_object(type_name: str) -> None:
    schema = node(type_name).config_schema
    Draft202012Validator.check_schema(schema)
    assert schema["type"] == "object"
    assert schema["additionalProperties"] is False


@pytest.mark.parametrize("type_name", SPEC_TYPES)
def test_valid_example_config_is_accepted(type_name: str) -> None:
    assert problems(type_name, VALID[type_name]) == []


@pytest.mark.parametrize(("type_name", "config"), INVALID)
def test_invalid_config_is_rejected(type_name: str, config: dict[str, Any]) -> None:
    assert problems(type_name, config)


def expression_fields() -> list[tuple[str, str]]:
    return [
        (type_name, name)
        for type_name in SPEC_TYPES
        for name, sub in node(type_name).config_schema["properties"].items()
        if EXPRESSION in sub.get("anyOf", [])
    ]


def test_the_fields_that_take_an_expression() -> None:
    fields = set(expression_fields())
    expected = {("delay", "seconds"), ("for_each", "items"), ("http_request", "timeout_seconds"), ("llm", "credential")}
    expected |= {("http_request", "body_file"), ("http_request", "files"), ("script", "files"), ("llm", "images")}
    assert expected <= fields


def test_a_multipart_request_with_files_and_fields_is_accepted() -> None:
    config = {
        "method": "POST",
        "url": "https://x",
        "body_type": "multipart",
        "body": {"title": "{{ input.title }}"},
        "files": {"doc": "{{ input.file }}", "more": [WORKFLOW_ID, "{{ input.other.id }}"]},
    }
    assert problems("http_request", config) == []
    assert problems("http_request", {"url": "https://x", "body_file": "{{ input.file.id }}"}) == []


@pytest.mark.parametrize(("type_name", "field"), expression_fields())
def test_a_template_is_accepted_where_an_expression_is_allowed(type_name: str, field: str) -> None:
    assert schema_errors(type_name, {**VALID[type_name], field: "{{ input.value }}"}) == []


@pytest.mark.parametrize(
    ("type_name", "field"), [("delay", "seconds"), ("for_each", "items"), ("http_request", "timeout_seconds")]
)
def test_a_string_that_is_not_a_whole_expression_is_rejected(type_name: str, field: str) -> None:
    assert schema_errors(type_name, {**VALID[type_name], field: "5 {{ input.value }}"})
    assert schema_errors(type_name, {**VALID[type_name], field: "5"})


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({"cron": "61 * * * *"}, ["cron"]),
        ({"cron": "every day"}, ["cron"]),
        ({"cron": "* * * * * *"}, ["cron"]),
        ({"cron": "@daily"}, ["cron"]),
        ({"cron": "0 9 * * 1-5", "timezone": "Mars/Olympus"}, ["timezone"]),
        ({"cron": "0 9 * * 1-5", "timezone": "../etc/passwd"}, ["timezone"]),
        ({"cron": "61 * * * *", "timezone": "Mars/Olympus"}, ["cron", "timezone"]),
        ({"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}, []),
        ({"cron": "*/15 * * * *"}, []),
    ],
)
def test_schedule_check(config: dict[str, Any], expected: list[str]) -> None:
    assert [path for path, _ in node("trigger.schedule").check(config)] == expected


def test_switch_outputs_are_the_case_ports_then_the_default_port() -> None:
    switch = node("switch")
    config = {"value": 1, "cases": [{"port": "a", "equals": 1}, {"port": "b", "equals": 2}, {"port": "a", "equals": 3}]}
    assert switch.output_ports(config) == ("a", "b", "default")
    assert switch.output_ports({**config, "default_port": "other"}) == ("a", "b", "other")
    assert switch.output_ports({**config, "default_port": "b"}) == ("a", "b")
    assert switch.output_ports({"cases": "garbage"}) == ("default",)


def test_switch_check_reports_duplicate_and_reserved_ports() -> None:
    cases = [
        {"port": "a", "equals": 1},
        {"port": "b", "equals": 2},
        {"port": "a", "equals": 3},
        {"port": "error", "equals": 4},
    ]
    found = node("switch").check({"value": 1, "cases": cases})
    assert [path for path, _ in found] == ["cases[2].port", "cases[3].port"]
    assert "already uses port 'a'" in found[0][1]
    assert node("switch").check({"value": 1, "cases": cases[:2]}) == []


@pytest.mark.parametrize(
    ("type_name", "first", "second"),
    [
        ("delay", {"seconds": 5}, {"until": "2030-01-31T09:00:00Z"}),
        ("llm", {"prompt": "hi"}, {"messages": [{"role": "user", "content": "hi"}]}),
    ],
)
def test_exactly_one_of_two_fields_is_required(type_name: str, first: dict[str, Any], second: dict[str, Any]) -> None:
    base = {"credential": CREDENTIAL_ID} if type_name == "llm" else {}
    check = node(type_name).check
    assert check({**base, **first}) == []
    assert check({**base, **second}) == []
    neither, both = check(base), check({**base, **first, **second})
    assert len(neither) == 1
    assert neither[0][0] == ""
    assert "Set either" in neither[0][1]
    assert len(both) == 1
    assert "not both" in both[0][1]


@pytest.mark.parametrize(
    ("until", "accepted"),
    [
        ("2030-01-31T09:00:00+01:00", True),
        ("{{ input.when }}", True),
        ("2030-01-31T09:00:00", False),
        ("tomorrow", False),
    ],
)
def test_delay_until_must_be_an_aware_date_time(until: str, accepted: bool) -> None:
    assert (node("delay").check({"until": until}) == []) is accepted


@pytest.mark.parametrize(("type_name", "field"), [("trigger.manual", "input_schema"), ("llm", "json_schema")])
def test_embedded_json_schemas_are_checked(type_name: str, field: str) -> None:
    base = {"credential": CREDENTIAL_ID, "prompt": "hi"} if type_name == "llm" else {}
    found = node(type_name).check({**base, field: {"type": "nonsense"}})
    assert [path for path, _ in found] == [f"{field}.type"]
    assert "Not a valid JSON Schema" in found[0][1]
    assert node(type_name).check({**base, field: {"type": "object"}}) == []
