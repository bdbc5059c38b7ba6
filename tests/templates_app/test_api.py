"""The templates API through the real URL conf: CRUD, visibility, staff edits, instantiate, save-as-template."""

from __future__ import annotations

import pytest

from templates_app.gallery import GALLERY
from templates_app.models import Template, TemplateParameter
from templates_app.services import builtin_templates_sync
from tests.clients import client_for
from tests.factories import WorkflowFactory
from tests.workflows.helpers import edge, linear, node
from workflows.models import Workflow

pytestmark = pytest.mark.django_db

URL = "/api/v1/templates"


def greeting_definition():
    return {
        "nodes": [
            node("start", "trigger.manual"),
            node("greet", "transform", value={"text": "Hello {{ who }} from {{ team }}", "count": "{{ count }}"}),
            node("wait", "delay", seconds="{{ wait }}"),
            node("out", "output", value={"greeting": "{{ steps.greet.output.text }}", "level": "{{ level }}"}),
        ],
        "edges": [edge("start", "greet"), edge("greet", "wait"), edge("wait", "out")],
        "variables": {"notify": "{{ notify }}", "site": "{{ site }}", "flag": "{{ flag }}", "extra": "{{ extra }}"},
        "settings": {},
    }


GREETING_PARAMETERS = [
    {"name": "who", "type": "string", "is_required": True, "description": "Who is greeted"},
    {"name": "team", "parameter_type": "string", "default_value": "ops"},
    {"name": "count", "type": "number", "default_value": 3},
    {"name": "wait", "type": "number", "default_value": 0},
    {"name": "level", "type": "enum", "choices": ["low", "high"], "default_value": "low"},
    {"name": "notify", "type": "email"},
    {"name": "site", "type": "url"},
    {"name": "flag", "type": "boolean", "default_value": False},
    {"name": "extra", "type": "json", "default_value": {"a": 1}},
]


def create(client, **overrides):
    payload = {
        "name": "Greeting",
        "description": "Greets someone",
        "category": "demo",
        "definition": greeting_definition(),
        "parameters": GREETING_PARAMETERS,
    }
    payload.update(overrides)
    return client.post(URL, payload, format="json")


def details(response) -> dict[str | None, str]:
    return {d["field"]: d["message"] for d in response.json()["error"]["details"]}


@pytest.fixture
def gallery(db):
    builtin_templates_sync(gallery=GALLERY)
    return {t.key: t for t in Template.objects.filter(is_builtin=True)}


@pytest.fixture
def staff(make_user):
    return client_for(make_user(is_staff=True))


class TestCrud:
    def test_create_and_read(self, auth_client, user):
        response = create(auth_client)
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["created_by"] == str(user.pk)
        assert body["is_builtin"] is False
        assert body["editable"] is True
        assert body["usage_count"] == 0
        assert body["parameter_count"] == 9
        assert body["parameters"][0] == {
            "name": "who",
            "description": "Who is greeted",
            "parameter_type": "string",
            "is_required": True,
            "default_value": None,
            "choices": [],
        }
        assert body["parameters"][4]["choices"] == ["low", "high"]
        assert body["definition"]["nodes"][1]["config"]["value"]["text"] == "Hello {{ who }} from {{ team }}"
        assert auth_client.get(f"{URL}/{body['id']}").json() == body

    def test_update_and_delete(self, auth_client):
        template_id = create(auth_client).json()["id"]
        response = auth_client.patch(f"{URL}/{template_id}", {"name": "Hello", "is_active": False}, format="json")
        assert response.status_code == 200, response.content
        assert (response.json()["name"], response.json()["is_active"]) == ("Hello", False)
        replaced = linear(node("start", "trigger.manual"), node("out", "output", value="{{ who }}"))
        response = auth_client.put(
            f"{URL}/{template_id}",
            {"name": "Echo", "definition": replaced, "parameters": [{"name": "who", "type": "string"}]},
            format="json",
        )
        assert response.status_code == 200, response.content
        assert [p["name"] for p in response.json()["parameters"]] == ["who"]
        assert TemplateParameter.objects.filter(template_id=template_id).count() == 1
        assert auth_client.delete(f"{URL}/{template_id}").status_code == 204
        assert not Template.objects.exists()

    def test_changing_the_definition_checks_it_with_the_existing_parameters(self, auth_client):
        template_id = create(auth_client).json()["id"]
        bad = linear(node("start", "trigger.manual"), node("out", "output", value="{{ nobody }}"))
        response = auth_client.patch(f"{URL}/{template_id}", {"definition": bad}, format="json")
        assert response.status_code == 400
        assert "'nobody' is neither a parameter" in details(response)["definition.nodes[1].config.value"]
        assert Template.objects.get(pk=template_id).definition == greeting_definition()

    @pytest.mark.parametrize(
        ("overrides", "field", "message"),
        [
            (
                {"parameters": [{"name": "who", "type": "colour"}]},
                "parameters[0].type",
                '"colour" is not a valid choice.',
            ),
            ({"parameters": [{"name": "steps"}]}, "parameters[0].name", "'steps' is reserved; choose another name"),
            (
                {
                    "parameters": [
                        *GREETING_PARAMETERS[:3],
                        {"name": "wait", "type": "number", "default_value": -5},
                        *GREETING_PARAMETERS[4:],
                    ]
                },
                "parameters[3].default_value",
                "With this default, definition.nodes[2].config.seconds: -5 is less than the minimum of 0",
            ),
            ({"definition": {"nodes": []}}, "definition.nodes", "A definition needs a non-empty list of nodes"),
            (
                {"definition": linear(node("start", "trigger.manual"), node("x", "transfrom"))},
                "definition.nodes[1].type",
                "Unknown node type 'transfrom'; did you mean 'transform'?",
            ),
        ],
    )
    def test_invalid_templates_are_refused(self, auth_client, overrides, field, message):
        response = create(auth_client, **overrides)
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert details(response)[field] == message
        assert not Template.objects.exists()

    def test_a_placeholder_inside_an_expression_is_refused(self, auth_client):
        definition = greeting_definition()
        definition["nodes"][1]["config"]["value"]["text"] = "{{ input.name ~ '{{ who }}' }}"
        response = create(auth_client, definition=definition)
        assert response.status_code == 400
        assert "must stand on its own" in details(response)["definition.nodes[1].config.value.text"]


class TestVisibility:
    def test_built_ins_for_everyone_own_templates_for_their_owner(self, auth_client, make_user, gallery):
        mine = create(auth_client).json()["id"]
        other = client_for(make_user())
        theirs = create(other, name="Theirs").json()["id"]
        listed = auth_client.get(URL, {"size": 100}).json()
        ids = {item["id"] for item in listed["items"]}
        assert mine in ids
        assert theirs not in ids
        assert listed["total"] == len(GALLERY) + 1
        assert {item["key"] for item in listed["items"] if item["is_builtin"]} == set(gallery)
        assert auth_client.get(f"{URL}/{theirs}").status_code == 404
        assert auth_client.patch(f"{URL}/{theirs}", {"name": "x"}, format="json").status_code == 404
        assert auth_client.delete(f"{URL}/{theirs}").status_code == 404
        assert auth_client.post(f"{URL}/{theirs}/instantiate", {}, format="json").status_code == 404

    def test_filters_search_and_pages(self, auth_client, gallery):
        create(auth_client)
        sales = auth_client.get(URL, {"category": "sales"}).json()
        assert {item["key"] for item in sales["items"]} == {"lead-follow-up-email", "lead-scoring"}
        found = auth_client.get(URL, {"search": "slack"}).json()["items"]
        assert [item["key"] for item in found] == ["webhook-slack-alert", "incident-escalation"]
        mine = auth_client.get(URL, {"is_builtin": "false"}).json()["items"]
        assert [item["name"] for item in mine] == ["Greeting"]
        page = auth_client.get(URL, {"size": 5, "page": 2, "ordering": "name"}).json()
        assert (page["page"], page["size"], page["total"], page["pages"], len(page["items"])) == (2, 5, 15, 3, 5)
        assert "definition" not in page["items"][0]

    def test_inactive_built_ins_are_hidden_except_from_staff(self, auth_client, staff, gallery):
        hidden = gallery["api-sync"]
        assert staff.patch(f"{URL}/{hidden.pk}", {"is_active": False}, format="json").status_code == 200
        assert auth_client.get(f"{URL}/{hidden.pk}").status_code == 404
        assert staff.get(f"{URL}/{hidden.pk}").json()["is_active"] is False
        response = staff.post(f"{URL}/{hidden.pk}/instantiate", {}, format="json")
        assert response.status_code == 400
        assert details(response) == {"template": "This template is inactive and cannot be used"}


class TestBuiltInsAreReadOnly:
    def test_only_staff_edit_or_delete_built_ins(self, auth_client, staff, gallery):
        template = gallery["lead-scoring"]
        detail = auth_client.get(f"{URL}/{template.pk}").json()
        assert (detail["editable"], detail["created_by"]) == (False, None)
        assert auth_client.patch(f"{URL}/{template.pk}", {"name": "Mine"}, format="json").status_code == 403
        assert (
            auth_client.put(f"{URL}/{template.pk}", {"name": "x", "definition": {}}, format="json").status_code == 403
        )
        assert auth_client.delete(f"{URL}/{template.pk}").status_code == 403
        assert Template.objects.get(pk=template.pk).name == "Lead scoring and routing"

        assert staff.get(f"{URL}/{template.pk}").json()["editable"] is True
        response = staff.patch(f"{URL}/{template.pk}", {"name": "Scoring"}, format="json")
        assert response.status_code == 200
        assert response.json()["is_builtin"] is True
        assert staff.delete(f"{URL}/{template.pk}").status_code == 204

    def test_staff_can_publish_a_built_in(self, auth_client, staff):
        assert create(auth_client, is_builtin=True).status_code == 403
        response = create(staff, is_builtin=True)
        assert response.status_code == 201
        assert (response.json()["is_builtin"], response.json()["created_by"]) == (True, None)
        assert auth_client.get(f"{URL}/{response.json()['id']}").status_code == 200

    def test_permissions(self, make_user, gallery):
        viewer = client_for(make_user(role="viewer"))
        assert viewer.get(URL).status_code == 200
        assert create(viewer).status_code == 403
        response = viewer.post(f"{URL}/{gallery['lead-scoring'].pk}/instantiate", {}, format="json")
        assert response.status_code == 403
        assert response.json()["error"]["message"] == "Making a workflow from a template needs workflow:create"
        guest = client_for(make_user(role="guest"))
        assert guest.post(f"{URL}/{gallery['lead-scoring'].pk}/instantiate", {}, format="json").status_code == 201


class TestInstantiate:
    def test_makes_a_validated_workflow_and_counts_the_use(self, auth_client, user):
        template_id = create(auth_client).json()["id"]
        response = auth_client.post(
            f"{URL}/{template_id}/instantiate",
            {
                "name": "Hi Ada",
                "parameter_values": {"who": "Ada", "count": "5", "level": "high", "notify": "ops@example.com"},
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["name"] == "Hi Ada"
        assert body["description"] == "Greets someone"
        assert body["category"] == "demo"
        assert body["template_id"] == template_id
        assert body["companion_workflows"] == []
        assert body["version"] == 1
        assert "workflow:execute" in body["permissions"]
        workflow = Workflow.objects.get(pk=body["id"])
        assert workflow.owner == user
        nodes = {n["id"]: n for n in workflow.definition["nodes"]}
        assert nodes["greet"]["config"]["value"] == {"text": "Hello Ada from ops", "count": 5}
        assert nodes["wait"]["config"] == {"seconds": 0}
        assert nodes["out"]["config"]["value"]["level"] == "high"
        assert workflow.definition["variables"] == {
            "notify": "ops@example.com",
            "site": None,
            "flag": False,
            "extra": {"a": 1},
        }
        assert Template.objects.get(pk=template_id).usage_count == 1
        auth_client.post(f"{URL}/{template_id}/instantiate", {"parameter_values": {"who": "Bo"}}, format="json")
        assert Template.objects.get(pk=template_id).usage_count == 2
        assert Workflow.objects.filter(name="Greeting").count() == 1  # the template's name by default

    @pytest.mark.parametrize(
        ("values", "field", "message"),
        [
            ({}, "parameter_values.who", "This parameter is required"),
            ({"who": None}, "parameter_values.who", "This parameter is required"),
            ({"who": "Ada", "count": "many"}, "parameter_values.count", "'many' is not a number"),
            ({"who": "Ada", "flag": "sometimes"}, "parameter_values.flag", 'Expected true or false, got "sometimes"'),
            ({"who": ["Ada"]}, "parameter_values.who", "Expected a string, got a list"),
            (
                {"who": "Ada", "colour": "red"},
                "parameter_values.colour",
                "The template has no parameter 'colour'; the parameters are: count, extra, flag, level, notify, "
                "site, team, wait, who",
            ),
            (
                {"who": "Ada", "level": "medium"},
                "parameter_values.level",
                '"medium" is not one of the choices: "low", "high"',
            ),
            ({"who": "Ada", "notify": "ops@"}, "parameter_values.notify", "'ops@' is not a valid e-mail address"),
            (
                {"who": "Ada", "site": "javascript:alert(1)"},
                "parameter_values.site",
                "'javascript:alert(1)' is not a valid http(s) URL",
            ),
            (
                {"who": "Ada", "wait": 10**9},
                "parameter_values.wait",
                "1000000000 is greater than the maximum of 2592000 (at definition.nodes[2].config.seconds)",
            ),
        ],
    )
    def test_bad_values_create_nothing(self, auth_client, values, field, message):
        template_id = create(auth_client).json()["id"]
        response = auth_client.post(f"{URL}/{template_id}/instantiate", {"parameter_values": values}, format="json")
        assert response.status_code == 400, response.content
        assert response.json()["error"]["code"] == "VALIDATION_ERROR"
        assert details(response)[field] == message
        assert not Workflow.objects.exists()
        assert Template.objects.get(pk=template_id).usage_count == 0

    def test_parameter_values_must_be_an_object(self, auth_client):
        template_id = create(auth_client).json()["id"]
        response = auth_client.post(f"{URL}/{template_id}/instantiate", {"parameter_values": ["Ada"]}, format="json")
        assert response.status_code == 400
        assert set(details(response)) == {"parameter_values"}

    def test_an_invalid_result_points_at_the_parameter(self, auth_client, gallery):
        template = gallery["uptime-check"]
        values = {"url": "https://example.com/health", "alert_email": "ops@example.com"}
        response = auth_client.post(
            f"{URL}/{template.pk}/instantiate",
            {
                "parameter_values": {
                    **values,
                    "schedule": "every minute",
                    "timezone": "Mars/Base",
                    "timeout_seconds": 900,
                }
            },
            format="json",
        )
        assert response.status_code == 400
        assert details(response) == {
            "parameter_values.schedule": "'every minute' is not a cron expression of 5 fields (minute hour day month "
            "weekday) (at definition.nodes[0].config.cron)",
            "parameter_values.timezone": "'Mars/Base' is not an IANA time zone (e.g. Europe/Paris) (at "
            "definition.nodes[0].config.timezone)",
            "parameter_values.timeout_seconds": "900 is greater than the maximum of 300 (at "
            "definition.nodes[1].config.timeout_seconds)",
        }
        assert not Workflow.objects.exists()

    def test_a_broken_template_points_at_its_definition(self, auth_client):
        template_id = create(auth_client).json()["id"]
        # Written around the checks, as an old or hand-edited row might be.
        broken = greeting_definition()
        broken["edges"].append(edge("out", "nowhere"))
        Template.objects.filter(pk=template_id).update(definition=broken)
        response = auth_client.post(
            f"{URL}/{template_id}/instantiate", {"parameter_values": {"who": "x"}}, format="json"
        )
        assert response.status_code == 400
        assert details(response) == {
            "definition.edges[3].target": "Edge points to a node that does not exist: 'nowhere' (the template's definition)"
        }

    def test_companions_are_created_first_and_referenced(self, auth_client, gallery):
        template = gallery["fan-out-for-each"]
        response = auth_client.post(
            f"{URL}/{template.pk}/instantiate",
            {"name": "Check contacts", "parameter_values": {"parallelism": 2}, "tags": ["contacts"]},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        [companion] = body["companion_workflows"]
        assert (companion["key"], companion["name"]) == ("per_item", "Check contacts · per item")
        child = Workflow.objects.get(pk=companion["id"])
        assert child.definition["variables"] == {"required_field": "email", "tag": "processed"}
        each = next(n for n in body["definition"]["nodes"] if n["id"] == "each")
        assert each["config"]["workflow_id"] == companion["id"]
        assert each["config"]["parallelism"] == 2
        assert body["tags"] == ["contacts"]
        assert Workflow.objects.count() == 2

    def test_a_failure_after_a_companion_was_made_leaves_nothing(self, auth_client, gallery):
        template = gallery["fan-out-for-each"]
        response = auth_client.post(
            f"{URL}/{template.pk}/instantiate", {"parameter_values": {"parallelism": 500}}, format="json"
        )
        assert response.status_code == 400
        assert "parameter_values.parallelism" in details(response)
        assert not Workflow.objects.exists()


class TestSaveAsTemplate:
    def workflow(self, owner):
        definition = linear(
            node("start", "trigger.manual"),
            node(
                "call",
                "http_request",
                method="POST",
                url="https://api.example.com/tickets/{{ input.id }}",
                timeout_seconds=30,
                body={"team": "support", "note": "Escalated by support"},
            ),
            node("out", "output", value={"status": "{{ steps.call.output.status }}"}),
        )
        return WorkflowFactory(owner=owner, name="Escalate", category="ops", definition=definition)

    def test_literals_become_parameters_with_them_as_defaults(self, auth_client, user):
        workflow = self.workflow(user)
        response = auth_client.post(
            f"/api/v1/workflows/{workflow.pk}/save-as-template",
            {
                "description": "Escalate a ticket",
                "parameters": [
                    {"name": "base_url", "type": "url"},
                    {"name": "timeout", "type": "number"},
                    {"name": "team", "type": "string", "default_value": "ops"},
                ],
                "replace": {"https://api.example.com": "base_url", "support": "{{ team }}"},
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert (body["name"], body["category"], body["source_workflow"]) == ("Escalate", "ops", str(workflow.pk))
        config = body["definition"]["nodes"][1]["config"]
        assert config["url"] == "{{ base_url }}/tickets/{{ input.id }}"
        assert config["body"] == {"team": "{{ team }}", "note": "Escalated by {{ team }}"}
        assert config["timeout_seconds"] == 30  # not replaced: timeout was declared but not mapped
        defaults = {p["name"]: p["default_value"] for p in body["parameters"]}
        assert defaults == {"base_url": "https://api.example.com", "timeout": None, "team": "ops"}

        made = auth_client.post(
            f"{URL}/{body['id']}/instantiate",
            {"parameter_values": {"base_url": "https://tickets.example.org", "team": "billing"}},
            format="json",
        )
        assert made.status_code == 201, made.content
        config = made.json()["definition"]["nodes"][1]["config"]
        assert config["url"] == "https://tickets.example.org/tickets/{{ input.id }}"
        assert config["body"] == {"team": "billing", "note": "Escalated by billing"}

    def test_list_form_and_non_string_literals(self, auth_client, user):
        workflow = self.workflow(user)
        response = auth_client.post(
            f"/api/v1/workflows/{workflow.pk}/save-as-template",
            {
                "name": "T",
                "parameters": [{"name": "timeout", "type": "number"}],
                "replace": [{"value": 30, "parameter": "timeout"}],
            },
            format="json",
        )
        assert response.status_code == 201, response.content
        assert response.json()["definition"]["nodes"][1]["config"]["timeout_seconds"] == "{{ timeout }}"
        assert response.json()["parameters"][0]["default_value"] == 30

    def test_bad_requests(self, auth_client, user, make_user):
        workflow = self.workflow(user)
        url = f"/api/v1/workflows/{workflow.pk}/save-as-template"
        response = auth_client.post(
            url,
            {
                "parameters": [{"name": "team"}, {"name": "size", "type": "number"}],
                "replace": [
                    {"value": "nowhere to be found", "parameter": "team"},
                    {"value": "support", "parameter": "teem"},
                    {"value": "support", "parameter": "size"},
                ],
            },
            format="json",
        )
        assert response.status_code == 400
        assert details(response) == {"replace[1].parameter": "'teem' is not one of the parameters given"}
        response = auth_client.post(
            url,
            {
                "parameters": [{"name": "team"}, {"name": "size", "type": "number"}],
                "replace": [
                    {"value": "nowhere to be found", "parameter": "team"},
                    {"value": "support", "parameter": "size"},
                ],
            },
            format="json",
        )
        assert details(response) == {
            "replace[0].value": "This value does not occur in the workflow's definition (script code and condition "
            "expressions are not searched)",
            "replace[1].value": "Not a number: 'support' is not a number",
        }
        assert auth_client.post(url, {"replace": 5}, format="json").status_code == 400
        assert not Template.objects.exists()
        other = client_for(make_user())
        assert other.post(url, {}, format="json").status_code == 404
        viewer = client_for(make_user(role="viewer"))
        assert viewer.post(url, {}, format="json").status_code == 403
