"""Importing n8n workflow exports: node mapping, ports, expressions, warnings, and the import API."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from executions.engine.expressions import build_context, render
from executions.engine.validation import validate_definition
from workflows.importers import Imported, import_payload
from workflows.importers.n8n import from_n8n
from workflows.importers.n8n.expressions import Scope, translate_text
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

URL = "/api/v1/workflows/import"
TRIGGER = "When clicking \u2018Test workflow\u2019"  # n8n's default name, curly quotes included


def n8n_node(name: str, node_type: str, parameters: dict[str, Any] | None = None, **extra: Any) -> dict[str, Any]:
    node = {
        "id": f"id-{name}",
        "name": name,
        "type": f"n8n-nodes-base.{node_type}" if "." not in node_type else node_type,
        "typeVersion": extra.pop("version", 1),
        "position": extra.pop("position", [0, 0]),
        "parameters": parameters or {},
    }
    node.update(extra)
    return node


def connections(*links: tuple[str, str] | tuple[str, str, int]) -> dict[str, Any]:
    """``("A", "B")`` connects A's first output to B; ``("IF", "C", 1)`` its second."""
    result: dict[str, Any] = {}
    for source, target, *rest in links:
        output = rest[0] if rest else 0
        outputs = result.setdefault(source, {"main": []})["main"]
        while len(outputs) <= output:
            outputs.append([])
        outputs[output].append({"node": target, "type": "main", "index": 0})
    return result


def export(*nodes: dict[str, Any], links=(), name: str = "My workflow", **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "nodes": list(nodes),
        "connections": connections(*links),
        "settings": {"executionOrder": "v1"},
        "pinData": {},
        **extra,
    }


def imported(workflow: dict[str, Any]) -> Imported:
    result = from_n8n(workflow)
    assert result is not None
    report = validate_definition(result.definition)
    assert report.valid, report.errors
    return result


def nodes_by_id(result: Imported) -> dict[str, dict[str, Any]]:
    return {node["id"]: node for node in result.definition["nodes"]}


def ports(result: Imported) -> set[tuple[str, str, str | None]]:
    return {(e["source"], e["target"], e.get("source_port")) for e in result.definition["edges"]}


def warnings_at(result: Imported, field: str) -> list[str]:
    return [w["message"] for w in result.warnings if w["field"] == field]


MANUAL = n8n_node(TRIGGER, "manualTrigger", position=[0, 300])
FETCH = n8n_node(
    "Fetch Order",
    "httpRequest",
    {
        "url": "=https://api.example.com/orders/{{ $json.order_id }}",
        "authentication": "genericCredentialType",
        "genericAuthType": "httpHeaderAuth",
        "sendQuery": True,
        "queryParameters": {"parameters": [{"name": "expand", "value": "items"}]},
        "sendHeaders": True,
        "headerParameters": {"parameters": [{"name": "Accept", "value": "application/json"}]},
        "options": {"timeout": 10000, "redirect": {"redirect": {"followRedirects": False}}},
    },
    version=4.2,
    position=[220, 300],
    credentials={"httpHeaderAuth": {"id": "7", "name": "Orders API"}},
)
IS_BIG = n8n_node(
    "Is Big Order?",
    "if",
    {
        "conditions": {
            "options": {"caseSensitive": True, "leftValue": "", "typeValidation": "strict"},
            "conditions": [
                {
                    "id": "c1",
                    "leftValue": "={{ $json.total }}",
                    "rightValue": 100,
                    "operator": {"type": "number", "operation": "gt"},
                },
                {
                    "id": "c2",
                    "leftValue": "={{ $json.status }}",
                    "rightValue": "paid",
                    "operator": {"type": "string", "operation": "equals"},
                },
            ],
            "combinator": "and",
        },
        "options": {},
    },
    version=2,
    position=[440, 300],
)
SLACK = n8n_node(
    "Notify Sales",
    "slack",
    {
        "select": "channel",
        "channelId": {"__rl": True, "value": "C0123", "mode": "list", "cachedResultName": "#sales"},
        "text": "=Big order {{ $('Fetch Order').item.json.id }} for {{ $json.total }} EUR",
        "otherOptions": {},
    },
    version=2.2,
    position=[660, 200],
    credentials={"slackApi": {"id": "8", "name": "Slack account"}},
)
EMAIL = n8n_node(
    "Send Email",
    "emailSend",
    {
        "fromEmail": "shop@example.com",
        "toEmail": "={{ $('Fetch Order').item.json.customer.email }}",
        "subject": "Your order",
        "emailFormat": "text",
        "text": "=Thanks {{ $json.customer.name }}!",
        "options": {},
    },
    version=2.1,
    position=[660, 400],
    credentials={"smtp": {"id": "9", "name": "Shop SMTP"}},
)
ORDERS = export(
    MANUAL,
    FETCH,
    IS_BIG,
    SLACK,
    EMAIL,
    links=[
        (TRIGGER, "Fetch Order"),
        ("Fetch Order", "Is Big Order?"),
        ("Is Big Order?", "Notify Sales", 0),
        ("Is Big Order?", "Send Email", 1),
    ],
    name="Big orders",
    tags=[{"id": "1", "name": "Sales", "createdAt": "2024-05-01T10:00:00.000Z"}],
)


class TestManualHttpIfSlackEmail:
    def test_node_types_ids_and_layout(self):
        result = imported(ORDERS)
        nodes = nodes_by_id(result)
        assert {node_id: node["type"] for node_id, node in nodes.items()} == {
            "when_clicking_test_workflow": "trigger.manual",
            "fetch_order": "http_request",
            "is_big_order": "condition",
            "notify_sales": "slack",
            "send_email": "email",
        }
        assert nodes["is_big_order"]["name"] == "Is Big Order?"
        assert nodes["notify_sales"]["position"] == {"x": 660, "y": 200}
        assert (result.name, result.tags, result.source_format) == ("Big orders", ["Sales"], "n8n")

    def test_if_outputs_become_ports(self):
        assert ports(imported(ORDERS)) == {
            ("when_clicking_test_workflow", "fetch_order", None),
            ("fetch_order", "is_big_order", None),
            ("is_big_order", "notify_sales", "true"),
            ("is_big_order", "send_email", "false"),
        }

    def test_http_request_config(self):
        config = nodes_by_id(imported(ORDERS))["fetch_order"]["config"]
        assert config == {
            "method": "GET",
            "url": "https://api.example.com/orders/{{ input.order_id }}",
            "query": {"expand": "items"},
            "headers": {"Accept": "application/json"},
            "credential": "{{ vars.credential_orders_api }}",
            "timeout_seconds": 10,
            "follow_redirects": False,
        }

    def test_condition_and_expressions_follow_the_data(self):
        nodes = nodes_by_id(imported(ORDERS))
        # $json after an HTTP Request is its response body; an IF passes its input on.
        assert nodes["is_big_order"]["config"]["expression"] == (
            '{{ (steps.fetch_order.output.body.total > 100) and (steps.fetch_order.output.body.status == "paid") }}'
        )
        assert nodes["notify_sales"]["config"]["text"] == (
            "Big order {{ steps.fetch_order.output.body.id }} for {{ steps.fetch_order.output.body.total }} EUR"
        )
        assert nodes["send_email"]["config"] == {
            "to": "{{ steps.fetch_order.output.body.customer.email }}",
            "subject": "Your order",
            "body": "Thanks {{ steps.fetch_order.output.body.customer.name }}!",
        }

    def test_the_condition_evaluates_like_n8n(self):
        expression = nodes_by_id(imported(ORDERS))["is_big_order"]["config"]["expression"]
        order = {"status": 200, "headers": {}, "body": {"total": 250, "status": "paid"}}
        steps = {"fetch_order": {"output": order, "status": "completed"}}
        assert render(expression, build_context(input={}, steps=steps)) is True
        order["body"]["total"] = 50
        assert render(expression, build_context(input={}, steps=steps)) is False

    def test_credentials_are_never_imported_and_reported_per_node(self):
        result = imported(ORDERS)
        for index in (1, 3, 4):
            [message] = warnings_at(result, f"nodes[{index}].credentials")
            assert "credentials are not imported" in message
        assert "'Slack account' (slackApi)" in warnings_at(result, "nodes[3].credentials")[0]
        # Required credentials read a workflow variable until one is chosen; e-mail falls back to the server's.
        assert result.definition["variables"] == {"credential_orders_api": "", "credential_slack_account": ""}
        assert "credential" not in nodes_by_id(result)["send_email"]["config"]
        assert any("#sales" in message for message in warnings_at(result, "nodes[3]"))
        assert warnings_at(result, "nodes[4].parameters.fromEmail")


WEBHOOK_FLOW = export(
    n8n_node(
        "Webhook",
        "webhook",
        {"httpMethod": "POST", "path": "orders", "responseMode": "responseNode", "options": {}},
        version=2,
        webhookId="2f1c",
    ),
    n8n_node(
        "Shape Reply",
        "set",
        {
            "assignments": {
                "assignments": [
                    {"id": "a1", "name": "customer", "value": "={{ $json.body.name }}", "type": "string"},
                    {
                        "id": "a2",
                        "name": "total",
                        "value": "={{ $json.body.qty * $json.body.price }}",
                        "type": "number",
                    },
                    {"id": "a3", "name": "meta.source", "value": "n8n", "type": "string"},
                    {"id": "a4", "name": "count", "value": "3", "type": "number"},
                ]
            },
            "options": {},
        },
        version=3.4,
    ),
    n8n_node(
        "Respond to Webhook",
        "respondToWebhook",
        {
            "respondWith": "json",
            "responseBody": '={\n  "ok": true,\n  "customer": "{{ $json.customer }}",\n  "total": {{ $json.total }}\n}',
            "options": {"responseCode": 201},
        },
        version=1.1,
    ),
    links=[("Webhook", "Shape Reply"), ("Shape Reply", "Respond to Webhook")],
)


class TestWebhookSetRespond:
    def test_mapping(self):
        result = imported(WEBHOOK_FLOW)
        nodes = nodes_by_id(result)
        assert nodes["webhook"]["type"] == "trigger.webhook"
        assert nodes["webhook"]["config"] == {"method": "POST", "respond": "when_done"}
        assert nodes["shape_reply"]["type"] == "transform"
        assert nodes["shape_reply"]["config"]["value"] == {
            "customer": "{{ input.body.name }}",
            "total": "{{ input.body.qty * input.body.price }}",
            "meta": {"source": "n8n"},
            "count": 3,
        }
        assert nodes["respond_to_webhook"]["type"] == "webhook_response"
        assert nodes["respond_to_webhook"]["config"] == {
            "status": 201,
            "body": {
                "ok": True,
                "customer": "{{ steps.shape_reply.output.customer }}",
                "total": "{{ steps.shape_reply.output.total }}",
            },
        }
        assert "new secret URL" in warnings_at(result, "nodes[0].parameters.path")[0]

    def test_the_set_values_render_with_their_types(self):
        value = nodes_by_id(imported(WEBHOOK_FLOW))["shape_reply"]["config"]["value"]
        context = build_context(input={"body": {"name": "Ada", "qty": 2, "price": 4.5}}, steps={})
        assert render(value, context) == {"customer": "Ada", "total": 9.0, "meta": {"source": "n8n"}, "count": 3}

    def test_respond_immediately_by_default(self):
        workflow = copy.deepcopy(WEBHOOK_FLOW)
        del workflow["nodes"][0]["parameters"]["responseMode"]
        del workflow["nodes"][0]["parameters"]["httpMethod"]  # n8n's default is GET
        config = nodes_by_id(imported(workflow))["webhook"]["config"]
        assert config == {"method": "GET", "respond": "immediately"}


SCHEDULED = export(
    n8n_node(
        "Every weekday",
        "scheduleTrigger",
        {"rule": {"interval": [{"field": "cronExpression", "expression": "0 9 * * 1-5"}]}},
        version=1.2,
    ),
    n8n_node(
        "Double It",
        "code",
        {"jsCode": "return $input.all().map(item => ({ json: { n: item.json.n * 2 } }));"},
        version=2,
    ),
    n8n_node(
        "Append Row",
        "googleSheets",
        {"operation": "append", "documentId": {"__rl": True, "value": "1abc", "mode": "list"}},
        version=4.5,
        credentials={"googleSheetsOAuth2Api": {"id": "3", "name": "Google"}},
    ),
    n8n_node("Done", "noOp"),
    links=[("Every weekday", "Double It"), ("Double It", "Append Row"), ("Append Row", "Done")],
    settings={"executionOrder": "v1", "timezone": "Europe/Paris", "executionTimeout": 600},
)


class TestScheduleCodeUnsupported:
    def test_schedule_trigger_with_a_cron(self):
        result = imported(SCHEDULED)
        trigger = nodes_by_id(result)["every_weekday"]
        assert trigger["type"] == "trigger.schedule"
        assert trigger["config"] == {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}
        assert result.definition["settings"] == {"timeout_seconds": 600}

    def test_code_is_kept_as_a_comment_and_passes_its_input_through(self):
        result = imported(SCHEDULED)
        script = nodes_by_id(result)["double_it"]
        assert script["type"] == "script"
        code = script["config"]["code"]
        assert "# return $input.all().map(item => ({ json: { n: item.json.n * 2 } }));" in code
        assert code.rstrip().endswith("output = inputs")
        compile(code, "<imported>", "exec")  # valid Python as it stands
        assert script["config"]["inputs"] == "{{ input }}"
        [message] = warnings_at(result, "nodes[1].parameters.jsCode")
        assert "must be rewritten in Python" in message

    def test_unsupported_node_becomes_a_pass_through(self):
        result = imported(SCHEDULED)
        nodes = nodes_by_id(result)
        sheets = nodes["append_row"]
        assert sheets["type"] == "transform"
        assert sheets["name"] == "Append Row (unsupported: n8n-nodes-base.googleSheets)"
        assert sheets["config"] == {"value": "{{ steps.double_it.output }}"}
        assert warnings_at(result, "nodes[2]") == [
            "n8n node 'Append Row' of type 'n8n-nodes-base.googleSheets' has no Flowbuilder equivalent; "
            "replaced by a pass-through"
        ]
        assert warnings_at(result, "nodes[2].credentials")
        # The graph stays connected, and what follows still sees the data it passed on.
        assert ports(result) == {("every_weekday", "double_it", None), ("double_it", "append_row", None)} | {
            ("append_row", "done", None)
        }
        assert nodes["done"]["config"] == {"value": "{{ steps.double_it.output }}"}

    @pytest.mark.parametrize(
        ("rule", "cron"),
        [
            ({"field": "minutes", "minutesInterval": 15}, "*/15 * * * *"),
            ({"field": "hours", "hoursInterval": 2, "triggerAtMinute": 30}, "30 */2 * * *"),
            ({"field": "days", "triggerAtHour": 8}, "0 8 * * *"),
            ({"field": "weeks", "triggerAtDay": [1, 3], "triggerAtHour": 9}, "0 9 * * 1,3"),
            ({"field": "months", "triggerAtDayOfMonth": 15, "triggerAtHour": 6}, "0 6 15 * *"),
            ({"field": "cronExpression", "expression": "0 */5 * * * *"}, "*/5 * * * *"),
        ],
    )
    def test_simple_intervals_become_cron(self, rule, cron):
        workflow = export(n8n_node("Tick", "scheduleTrigger", {"rule": {"interval": [rule]}}, version=1.2))
        assert nodes_by_id(imported(workflow))["tick"]["config"]["cron"] == cron

    def test_old_cron_node(self):
        item = {"mode": "everyWeek", "hour": 7, "minute": 45, "weekday": "5"}
        workflow = export(n8n_node("Cron", "cron", {"triggerTimes": {"item": [item]}}))
        node = nodes_by_id(imported(workflow))["cron"]
        assert (node["type"], node["config"]) == ("trigger.schedule", {"cron": "45 7 * * 5"})

    def test_a_schedule_cron_cannot_express_is_reported(self):
        rule = {"field": "seconds", "secondsInterval": 30}
        result = imported(export(n8n_node("Tick", "scheduleTrigger", {"rule": {"interval": [rule]}}, version=1.2)))
        assert nodes_by_id(result)["tick"]["type"] == "trigger.manual"
        [message] = warnings_at(result, "nodes[0].parameters.rule.interval[0]")
        assert "30 seconds" in message
        assert "manual trigger" in message


def scope(current: str | None = "input") -> Scope:
    names = {"Fetch Order": "steps.fetch_order.output.body", "Shape": "steps.shape.output"}
    return Scope(current=current, named=names.get)


class TestExpressions:
    @pytest.mark.parametrize(
        ("n8n", "jinja"),
        [
            ("={{ $json.email }}", "{{ input.email }}"),
            ('={{ $json.items[0]["unit price"] }}', '{{ input.items[0]["unit price"] }}'),
            ("=Hi {{ $json.name.toUpperCase() }}!", "Hi {{ input.name.upper() }}!"),
            ("={{ $input.item.json.id }}", "{{ input.id }}"),
            ("={{ $('Fetch Order').item.json.id }}", "{{ steps.fetch_order.output.body.id }}"),
            ("={{ $('Shape').first().json.total }}", "{{ steps.shape.output.total }}"),
            ('={{ $node["Shape"].json["total"] }}', '{{ steps.shape.output["total"] }}'),
            ("={{ $items('Shape')[0].json.total }}", "{{ steps.shape.output.total }}"),
            (
                "={{ $json.tags.length > 0 && !$json.archived }}",
                "{{ (input.tags | length) > 0 and not input.archived }}",
            ),
            (
                "={{ $json.status === 'paid' || $json.total >= 100 }}",
                "{{ input.status == 'paid' or input.total >= 100 }}",
            ),
            ("={{ $execution.id }}", "{{ execution.id }}"),
            ("plain text", "plain text"),
            ("no {{ markup }} without =", "no {{ '{{' }} markup }} without ="),
        ],
    )
    def test_translations(self, n8n, jinja):
        translated = translate_text(n8n, scope())
        assert (translated.value, translated.untranslated) == (jinja, [])

    def test_literal_braces_render_to_themselves(self):
        template = translate_text("no {{ markup }} here", scope()).value
        assert render(template, build_context(input={}, steps={})) == "no {{ markup }} here"

    def test_whole_expressions_keep_their_type(self):
        template = translate_text("={{ $json.count * 2 }}", scope()).value
        assert render(template, build_context(input={"count": 21}, steps={})) == 42

    @pytest.mark.parametrize(
        "n8n",
        ["={{ $now.toISO() }}", "={{ $json.a ? 1 : 2 }}", "={{ $json.list.map(x => x.id) }}", "={{ Math.max(1, 2) }}"],
    )
    def test_untranslatable_expressions_are_kept_as_text(self, n8n):
        translated = translate_text("=at " + n8n[1:], scope())
        assert translated.untranslated == [n8n[1:]]
        assert translated.value == "at {% raw %}" + n8n[1:] + "{% endraw %}"
        assert render(translated.value, build_context(input={}, steps={})) == "at " + n8n[1:]

    def test_json_without_a_single_predecessor_is_not_guessed(self):
        translated = translate_text("={{ $json.id }}", scope(current=None))
        assert translated.untranslated == ["{{ $json.id }}"]

    def test_untranslated_expressions_are_reported_at_the_field(self):
        http = n8n_node("Call", "httpRequest", {"url": "=https://x.example/{{ $now.toISO() }}"}, version=4.2)
        result = imported(export(MANUAL, http, links=[(TRIGGER, "Call")]))
        assert (
            nodes_by_id(result)["call"]["config"]["url"] == "https://x.example/{% raw %}{{ $now.toISO() }}{% endraw %}"
        )
        [message] = warnings_at(result, "nodes[1].parameters.url")
        assert "{{ $now.toISO() }}" in message
        assert "config.url" in message


class TestGraph:
    def test_ids_are_unique_slugs(self):
        first = n8n_node("Send e-mail", "noOp")
        second = n8n_node("Send E-Mail!", "noOp")
        result = imported(export(MANUAL, first, second, links=[(TRIGGER, "Send e-mail"), (TRIGGER, "Send E-Mail!")]))
        assert set(nodes_by_id(result)) == {"when_clicking_test_workflow", "send_e_mail", "send_e_mail_2"}

    def test_a_manual_trigger_is_added_when_there_is_none(self):
        node = n8n_node("Only Step", "set", {"assignments": {"assignments": []}}, version=3.4, position=[400, 100])
        result = imported(export(node))
        start = result.definition["nodes"][0]
        assert (start["id"], start["type"], start["position"]) == ("start", "trigger.manual", {"x": 180, "y": 100})
        assert ports(result) == {("start", "only_step", None)}
        assert warnings_at(result, "nodes")

    def test_one_trigger_is_kept(self):
        schedule = n8n_node("Nightly", "scheduleTrigger", {"rule": {"interval": [{"field": "days"}]}}, version=1.2)
        step = n8n_node("Step", "noOp")
        result = imported(export(MANUAL, schedule, step, links=[(TRIGGER, "Step"), ("Nightly", "Step")]))
        assert [n["type"] for n in result.definition["nodes"]] == ["trigger.schedule", "transform"]
        assert ports(result) == {("nightly", "step", None)}
        assert "another trigger" in warnings_at(result, "nodes[0]")[0]

    def test_loops_are_cut_and_split_in_batches_reported(self):
        loop = n8n_node("Loop Over Items", "splitInBatches", {"options": {}}, version=3)
        work = n8n_node("Work", "noOp")
        result = imported(
            export(
                MANUAL,
                loop,
                work,
                links=[(TRIGGER, "Loop Over Items"), ("Loop Over Items", "Work", 1), ("Work", "Loop Over Items")],
            )
        )
        assert ports(result) == {
            ("when_clicking_test_workflow", "loop_over_items", None),
            ("loop_over_items", "work", None),
        }
        assert "for_each" in warnings_at(result, "nodes[1]")[0]
        assert "makes a loop" in warnings_at(result, 'connections["Work"].main[0][0]')[0]

    def test_switch_rules_become_named_ports(self):
        def rule(value: str, key: str) -> dict[str, Any]:
            condition = {
                "leftValue": "={{ $json.plan }}",
                "rightValue": value,
                "operator": {"type": "string", "operation": "equals"},
            }
            return {
                "conditions": {"conditions": [condition], "combinator": "and"},
                "renameOutput": True,
                "outputKey": key,
            }

        switch = n8n_node(
            "Route",
            "switch",
            {"rules": {"values": [rule("pro", "Pro"), rule("free", "Free")]}, "options": {"fallbackOutput": "extra"}},
            version=3.2,
        )
        targets = [n8n_node(name, "noOp") for name in ("A", "B", "C")]
        links = [(TRIGGER, "Route"), ("Route", "A", 0), ("Route", "B", 1), ("Route", "C", 2)]
        result = imported(export(MANUAL, switch, *targets, links=links))
        assert nodes_by_id(result)["route"]["config"] == {
            "value": "{{ input.plan }}",
            "cases": [{"port": "pro", "equals": "pro"}, {"port": "free", "equals": "free"}],
            "default_port": "fallback",
        }
        assert {("route", "a", "pro"), ("route", "b", "free"), ("route", "c", "fallback")} <= ports(result)

    def test_error_output_becomes_the_error_port(self):
        http = n8n_node("Call", "httpRequest", {"url": "https://x.example"}, version=4.2, onError="continueErrorOutput")
        http.update(retryOnFail=True, maxTries=4, waitBetweenTries=2000)
        handler = n8n_node("Handle", "noOp")
        result = imported(export(MANUAL, http, handler, links=[(TRIGGER, "Call"), ("Call", "Handle", 1)]))
        call = nodes_by_id(result)["call"]
        assert (call["on_error"], call["retry"]) == ("error_port", {"max_attempts": 4, "backoff_seconds": 2.0})
        assert ("call", "handle", "error") in ports(result)

    def test_wait_merge_sub_workflow_and_llm(self):
        wait = n8n_node("Wait", "wait", {"amount": 2, "unit": "minutes"}, version=1.1)
        merge = n8n_node("Merge", "merge", {"mode": "chooseBranch"}, version=3)
        call = n8n_node(
            "Run Child",
            "executeWorkflow",
            {"workflowId": {"__rl": True, "value": "AbC12", "mode": "list", "cachedResultName": "Child flow"}},
            version=1.2,
        )
        llm = n8n_node(
            "Summarise",
            "@n8n/n8n-nodes-langchain.openAi",
            {
                "modelId": {"__rl": True, "value": "gpt-4o-mini", "mode": "list"},
                "messages": {"values": [{"content": "=Summarise {{ $json.text }}"}]},
                "options": {"temperature": 0.2},
            },
            version=1.8,
            credentials={"openAiApi": {"id": "5", "name": "OpenAI"}},
        )
        links = [
            (TRIGGER, "Wait"),
            (TRIGGER, "Summarise"),
            ("Wait", "Merge"),
            ("Summarise", "Merge"),
            ("Merge", "Run Child"),
        ]
        result = imported(export(MANUAL, wait, merge, call, llm, links=links))
        nodes = nodes_by_id(result)
        assert (nodes["wait"]["type"], nodes["wait"]["config"]) == ("delay", {"seconds": 120})
        assert (nodes["merge"]["type"], nodes["merge"]["config"]) == ("merge", {"mode": "wait_all"})
        assert nodes["run_child"]["type"] == "sub_workflow"
        assert nodes["run_child"]["config"]["workflow_id"] == "{{ vars.workflow_child_flow }}"
        assert "AbC12" in warnings_at(result, "nodes[3].parameters.workflowId")[0]
        assert nodes["summarise"]["config"] == {
            "credential": "{{ vars.credential_openai }}",
            "model": "gpt-4o-mini",
            "temperature": 0.2,
            "prompt": "Summarise {{ input.text }}",
        }


class TestOlderTypeVersions:
    def test_if_1_http_1_and_set_2(self):
        set_node = n8n_node(
            "Prepare",
            "set",
            {
                "values": {
                    "string": [{"name": "sku", "value": "={{ $json.sku }}"}],
                    "number": [{"name": "qty", "value": 2}],
                }
            },
            version=2,
        )
        check = n8n_node(
            "In Stock?",
            "if",
            {
                "conditions": {
                    "string": [{"value1": "={{ $json.sku }}", "operation": "startsWith", "value2": "A-"}],
                    "number": [{"value1": "={{ $json.qty }}", "operation": "largerEqual", "value2": 1}],
                },
                "combineOperation": "any",
            },
        )
        order = n8n_node(
            "Order",
            "httpRequest",
            {
                "requestMethod": "POST",
                "url": "https://shop.example/orders",
                "jsonParameters": True,
                "bodyParametersJson": '={"sku": "{{ $json.sku }}", "qty": {{ $json.qty }}}',
            },
        )
        links = [(TRIGGER, "Prepare"), ("Prepare", "In Stock?"), ("In Stock?", "Order")]
        result = imported(export(MANUAL, set_node, check, order, links=links))
        nodes = nodes_by_id(result)
        assert nodes["prepare"]["config"] == {"value": {"sku": "{{ input.sku }}", "qty": 2}}
        assert nodes["in_stock"]["config"]["expression"] == (
            '{{ (steps.prepare.output.sku.startswith("A-")) or (steps.prepare.output.qty >= 1) }}'
        )
        assert nodes["order"]["config"] == {
            "method": "POST",
            "url": "https://shop.example/orders",
            "body": {"sku": "{{ steps.prepare.output.sku }}", "qty": "{{ steps.prepare.output.qty }}"},
            "response_type": "json",
        }
        assert "other input fields" in warnings_at(result, "nodes[1]")[0]  # Set 2 kept the input fields

    def test_conditions_we_cannot_express_are_false_and_reported(self):
        regex = {"leftValue": "={{ $json.email }}", "rightValue": "@example\\.com$"}
        regex["operator"] = {"type": "string", "operation": "regex"}
        check = n8n_node("Check", "if", {"conditions": {"conditions": [regex], "combinator": "and"}}, version=2.2)
        result = imported(export(MANUAL, check, links=[(TRIGGER, "Check")]))
        assert nodes_by_id(result)["check"]["config"]["expression"] == "{{ false }}"
        assert "regular expressions" in warnings_at(result, "nodes[1].parameters.conditions")[0]

    def test_ai_sub_node_connections_are_reported(self):
        model = n8n_node("OpenAI Chat Model", "@n8n/n8n-nodes-langchain.lmChatOpenAi", {"model": "gpt-4o"})
        agent = n8n_node("AI Agent", "@n8n/n8n-nodes-langchain.agent", {"text": "={{ $json.question }}"}, version=1.7)
        workflow = export(MANUAL, agent, model, links=[(TRIGGER, "AI Agent")])
        workflow["connections"]["OpenAI Chat Model"] = {
            "ai_languageModel": [[{"node": "AI Agent", "type": "ai_languageModel", "index": 0}]]
        }
        result = imported(workflow)
        nodes = nodes_by_id(result)
        assert nodes["ai_agent"]["type"] == "transform"
        assert nodes["openai_chat_model"]["type"] == "llm"
        assert warnings_at(result, 'connections["OpenAI Chat Model"].ai_languageModel')


def test_detection():
    assert from_n8n({"nodes": [{"id": "a", "type": "trigger.manual"}], "edges": []}) is None
    assert from_n8n({"nodes": [], "connections": [{"source": "a", "target": "b"}]}) is None
    assert import_payload(ORDERS).source_format == "n8n"


def test_import_api_end_to_end(auth_client):
    response = auth_client.post(URL, {"data": SCHEDULED}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["name"] == "My workflow"
    assert [n["type"] for n in body["definition"]["nodes"]] == ["trigger.schedule", "script", "transform", "transform"]
    assert body["trigger"]["type"] == "schedule"
    fields = {w["field"] for w in body["warnings"]}
    assert {"nodes[1].parameters.jsCode", "nodes[2]", "nodes[2].credentials"} <= fields
    workflow = Workflow.objects.get(pk=body["id"])
    assert workflow.definition["nodes"][2]["name"] == "Append Row (unsupported: n8n-nodes-base.googleSheets)"


def test_import_api_with_tags_and_ports(auth_client):
    response = auth_client.post(URL, {"data": ORDERS}, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["tags"] == ["sales"]
    assert {e.get("source_port") for e in body["definition"]["edges"]} == {None, "true", "false"}


def test_connection_to_a_missing_node_is_rejected(auth_client):
    broken = copy.deepcopy(ORDERS)
    broken["connections"]["Fetch Order"]["main"][0].append({"node": "Gone", "type": "main", "index": 0})
    response = auth_client.post(URL, {"data": broken}, format="json")
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "VALIDATION_ERROR"
    assert error["details"] == [
        {
            "field": 'connections["Fetch Order"].main[0][1].node',
            "message": "The connection from 'Fetch Order' points to a node that does not exist: 'Gone'",
        }
    ]
    assert not Workflow.objects.exists()


def test_malformed_nodes_are_rejected(auth_client):
    broken = export(MANUAL, n8n_node(TRIGGER, "noOp"))
    response = auth_client.post(URL, {"data": broken}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "nodes[1].name"
    assert not Workflow.objects.exists()
