"""POST /api/v1/test/parse: the built-in parser through the API, its errors, and the AI provider path."""

from __future__ import annotations

import json

import pytest

from integrations.models import AIUsage
from tests.clients import client_for
from tests.integrations.servers import OPENAI_KEY

pytestmark = pytest.mark.django_db

URL = "/api/v1/test/parse"
TEXT = (
    "Every weekday at 9am Paris time, fetch https://api.example.com/status, then if the status is 500 email "
    "ops@example.com with subject 'API down', otherwise post to Slack."
)


def test_parse_answers_a_definition_that_validates_and_saves(auth_client):
    response = auth_client.post(URL, {"text": TEXT}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["parser"] == "builtin"
    assert body["confidence"] == 1.0
    trigger = body["definition"]["nodes"][0]
    assert trigger["config"] == {"cron": "0 9 * * 1-5", "timezone": "Europe/Paris"}
    assert body["warnings"] == [
        {
            "field": "definition.nodes[4].config.credential",
            "message": "Choose the Slack webhook credential to post with (credentials cannot be guessed): "
            "set variables.slack_credential",
            "start": None,
            "end": None,
        }
    ]
    validated = auth_client.post("/api/v1/workflows/validate", {"definition": body["definition"]}, format="json")
    assert validated.json()["valid"] is True
    created = auth_client.post("/api/v1/workflows", {"name": "Status", "definition": body["definition"]}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["trigger"]["cron"] == "0 9 * * 1-5"


def test_nothing_understood_is_422_with_the_words(auth_client):
    response = auth_client.post(URL, {"text": "   frobnicate the widgets"}, format="json")
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "UNPROCESSABLE"
    assert error["details"] == [
        {"field": "text", "message": "Did not understand 'frobnicate the widgets' (characters 3-25); it was left out"}
    ]


@pytest.mark.parametrize("text", ["__main__", "_", "a\vb\xa0c", "\u2028 \u0301"])
def test_characters_no_word_is_made_of_are_not_an_error(auth_client, text):
    """Underscores, vertical tabs and other odd spacing once stopped the lexer (a 500, found by fuzzing)."""
    response = auth_client.post(URL, {"text": text}, format="json")
    assert response.status_code == 422, response.content
    assert response.json()["error"]["code"] == "UNPROCESSABLE"


@pytest.mark.parametrize(
    ("text", "message"),
    [("", "This field may not be blank."), ("   ", "Describe the workflow in a few words"), ("x" * 4001, "4000")],
)
def test_bad_text_is_400(auth_client, text, message):
    response = auth_client.post(URL, {"text": text}, format="json")
    assert response.status_code == 400
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "text"
    assert message in detail["message"]


def test_needs_authentication_and_workflow_create(api_client, make_user):
    assert api_client.post(URL, {"text": TEXT}, format="json").status_code == 401
    viewer = client_for(make_user(role="viewer"))
    assert viewer.post(URL, {"text": TEXT}, format="json").status_code == 403


VALID = {
    "nodes": [
        {"id": "start", "type": "trigger.manual", "config": {}},
        {"id": "wait", "type": "delay", "config": {"seconds": 60}},
    ],
    "edges": [{"id": "e1", "source": "start", "target": "wait"}],
}
INVALID = {
    "nodes": [{"id": "start", "type": "trigger.manual"}, {"id": "x", "type": "delay", "config": {}}],
    "edges": [],
}


@pytest.fixture
def provider(servers, openai_server, make_credential):
    """The user's openai_compatible credential, pointing at a local OpenAI-compatible server."""
    make_credential(
        "openai_compatible",
        {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY, "default_model": "parser-model"},
    )
    return openai_server


def chat_requests(server) -> list[dict]:
    return [json.loads(hit["body"]) for hit in server.hits if hit["path"] == "/v1/chat/completions"]


def test_without_a_provider_the_builtin_parser_answers(auth_client, openai_server):
    body = auth_client.post(URL, {"text": "wait 2 minutes"}, format="json").json()
    assert body["parser"] == "builtin"
    assert openai_server.hits == []


def test_provider_answer_is_validated_and_used(auth_client, user, provider):
    provider.state["replies"] = ["```json\n" + json.dumps({"definition": VALID, "confidence": 0.8}) + "\n```"]
    body = auth_client.post(URL, {"text": "wait a minute"}, format="json").json()
    assert body["parser"] == "provider"
    assert body["confidence"] == 0.8
    assert [n["id"] for n in body["definition"]["nodes"]] == ["start", "wait"]
    (asked,) = chat_requests(provider)
    assert asked["model"] == "parser-model"
    assert '"type":"http_request"' in asked["messages"][0]["content"]  # the node catalog's schemas
    assert asked["messages"][-1] == {"role": "user", "content": "wait a minute"}
    usage = AIUsage.objects.get(user=user)
    assert usage.total_tokens > 0


def test_invalid_provider_answer_is_repaired_once_with_the_errors(auth_client, provider):
    provider.state["replies"] = [json.dumps({"definition": INVALID}), json.dumps({"definition": VALID})]
    body = auth_client.post(URL, {"text": "wait a minute"}, format="json").json()
    assert body["parser"] == "provider"
    repair = chat_requests(provider)[1]["messages"][-1]["content"]
    assert "definition.nodes[1].config: Set either 'seconds' or 'until'" in repair


def test_unreachable_provider_falls_back_with_a_warning(auth_client, servers, make_credential, internal_server):
    # A provider on an address the SSRF guard refuses: the call never leaves, the built-in parser answers.
    make_credential("openai_compatible", {"base_url": internal_server.url("/v1"), "api_key": OPENAI_KEY})
    body = auth_client.post(URL, {"text": "wait 2 minutes"}, format="json").json()
    assert body["parser"] == "builtin"
    assert body["definition"]["nodes"][1]["config"] == {"seconds": 120}
    assert body["warnings"][0]["message"].startswith("The AI provider failed (")


def test_invalid_answers_fall_back_with_a_warning(auth_client, provider):
    provider.state["replies"] = ["not json", json.dumps({"definition": INVALID})]
    body = auth_client.post(URL, {"text": "wait 2 minutes"}, format="json").json()
    assert body["parser"] == "builtin"
    assert body["warnings"][0]["message"].startswith("The AI provider failed (")
    assert len(chat_requests(provider)) == 2


def test_a_text_too_tangled_to_read_in_time_is_refused_not_left_running(auth_client, settings):
    # One 3,400-character run of "… and … and …" once kept a request busy for five minutes.
    settings.FLOWBUILDER_PARSE_BUDGET_SECONDS = 0.5
    response = auth_client.post(URL, {"text": "fetch https://x.io and " * 150}, format="json")
    assert response.status_code == 422, response.content
    error = response.json()["error"]
    assert error["details"][0]["field"] == "text"
    assert "more than 0.5 s" in error["details"][0]["message"]
