"""POST /api/v1/test/parse: the built-in parser through the API, its errors, and the AI provider seam."""

from __future__ import annotations

import json

import pytest

from nlparse import providers
from tests.conftest import client_for

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


class ScriptedProvider:
    """A provider that answers from a list, recording what it was asked (the client is issue 5's)."""

    name = "scripted"

    def __init__(self, *answers: str | Exception) -> None:
        self.answers = list(answers)
        self.asked: list[list[dict[str, str]]] = []

    def complete(self, messages):
        self.asked.append([dict(m) for m in messages])
        answer = self.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


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


def use_provider(monkeypatch, provider):
    # The seam the integrator fills in (provider_for answers None until credentials exist).
    monkeypatch.setattr(providers, "provider_for", lambda user: provider)


def test_provider_answer_is_validated_and_used(auth_client, monkeypatch):
    provider = ScriptedProvider("```json\n" + json.dumps({"definition": VALID, "confidence": 0.8}) + "\n```")
    use_provider(monkeypatch, provider)
    body = auth_client.post(URL, {"text": "wait a minute"}, format="json").json()
    assert body["parser"] == "provider"
    assert body["confidence"] == 0.8
    assert [n["id"] for n in body["definition"]["nodes"]] == ["start", "wait"]
    system = provider.asked[0][0]["content"]
    assert '"type":"http_request"' in system  # the node catalog's schemas are in the prompt


def test_invalid_provider_answer_is_repaired_once_with_the_errors(auth_client, monkeypatch):
    provider = ScriptedProvider(json.dumps({"definition": INVALID}), json.dumps({"definition": VALID}))
    use_provider(monkeypatch, provider)
    body = auth_client.post(URL, {"text": "wait a minute"}, format="json").json()
    assert body["parser"] == "provider"
    repair = provider.asked[1][-1]["content"]
    assert "definition.nodes[1].config: Set either 'seconds' or 'until'" in repair


@pytest.mark.parametrize(
    "answers",
    [
        (providers.ProviderError("connection refused"),),
        ("not json", json.dumps({"definition": INVALID})),
    ],
)
def test_failing_provider_falls_back_to_the_builtin_parser_with_a_warning(auth_client, monkeypatch, answers):
    use_provider(monkeypatch, ScriptedProvider(*answers))
    body = auth_client.post(URL, {"text": "wait 2 minutes"}, format="json").json()
    assert body["parser"] == "builtin"
    assert body["definition"]["nodes"][1]["config"] == {"seconds": 120}
    assert body["warnings"][0]["message"].startswith("The AI provider failed (")
