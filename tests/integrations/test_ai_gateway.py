"""The AI gateway against a local OpenAI-compatible server: provider choice, usage and cost, errors."""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from integrations.models import AIUsage
from tests.clients import client_for
from tests.integrations.servers import OPENAI_KEY

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]


def chat(client, **body):
    return client.post(
        "/api/v1/ai/chat", {"messages": [{"role": "user", "content": "hello there"}], **body}, format="json"
    )


def test_chat_through_the_callers_credential(auth_client, user, openai_credential, openai_server):
    response = chat(auth_client, credential_id=str(openai_credential.pk), temperature=0.2, max_tokens=50)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["text"] == "echo: hello there"
    assert body["usage"] == {"prompt_tokens": 2, "completion_tokens": 3, "total_tokens": 5}
    assert body["model"] == "gpt-4o-mini"
    assert body["provider"] == "127.0.0.1"
    # gpt-4o-mini: 0.15 $/1M prompt, 0.60 $/1M completion
    assert body["cost"] == pytest.approx((2 * 0.15 + 3 * 0.60) / 1_000_000)
    sent = json.loads(openai_server.hits[-1]["body"])
    assert (sent["temperature"], sent["max_tokens"], sent["model"]) == (0.2, 50, "gpt-4o-mini")
    usage = AIUsage.objects.get()
    assert (usage.user, usage.provider, usage.model, usage.kind, usage.source) == (
        user,
        "127.0.0.1",
        "gpt-4o-mini",
        "chat",
        "gateway",
    )
    assert (usage.prompt_tokens, usage.completion_tokens, usage.total_tokens) == (2, 3, 5)
    assert usage.cost == Decimal("0.0000021")
    assert usage.credential_id == openai_credential.pk


def test_without_credential_id_the_callers_own_credential_is_used(auth_client, openai_credential):
    assert chat(auth_client).status_code == 200


def test_no_provider_is_503(auth_client, settings):
    settings.FLOWBUILDER_AI_BASE_URL = ""
    for url, body in (
        ("/api/v1/ai/chat", {"messages": [{"role": "user", "content": "hi"}]}),
        ("/api/v1/ai/image/generate", {"prompt": "a cat"}),
        ("/api/v1/ai/image/analyze", {"prompt": "what is it?", "image_url": "https://example.com/cat.png"}),
    ):
        response = auth_client.post(url, body, format="json")
        assert response.status_code == 503
        error = response.json()["error"]
        assert error["code"] == "SERVICE_UNAVAILABLE"
        assert "No AI provider is configured" in error["message"]
    assert not AIUsage.objects.exists()


def test_server_default_provider(auth_client, openai_server, settings):
    # The operator's provider is trusted: its host need not be on the allow-list.
    settings.FLOWBUILDER_HTTP_ALLOWLIST = []
    settings.FLOWBUILDER_AI_BASE_URL = openai_server.url("/v1")
    settings.FLOWBUILDER_AI_API_KEY = OPENAI_KEY
    response = chat(auth_client, model="gpt-4o")
    assert response.status_code == 200, response.json()
    assert AIUsage.objects.get().credential_id is None

    settings.FLOWBUILDER_AI_API_KEY = "sk-wrong-key-0000000"
    response = chat(auth_client)
    assert response.status_code == 503
    assert "server's AI provider rejected its API key" in response.json()["error"]["message"]


def test_a_users_provider_is_behind_the_guard(auth_client, make_credential, internal_server):
    credential = make_credential(
        "openai_compatible", {"base_url": f"http://0x7f000002:{internal_server.port}/v1", "api_key": "sk-x-000000"}
    )
    response = chat(auth_client, credential_id=str(credential.pk))
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "credential_id"
    assert "Refused" in response.json()["error"]["message"]


def test_another_users_credential_is_refused(auth_client, make_credential, make_user, openai_server):
    theirs = make_credential(
        "openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY}, owner=make_user()
    )
    response = chat(auth_client, credential_id=str(theirs.pk))
    assert response.status_code == 400
    assert response.json()["error"]["details"] == [{"field": "credential_id", "message": "Credential not found"}]
    assert openai_server.hits == []


def test_wrong_credential_type(auth_client, make_credential):
    bearer = make_credential("http_bearer", {"token": "bearer-token-0123"})
    response = chat(auth_client, credential_id=str(bearer.pk))
    assert response.status_code == 400
    assert "Expected a credential of type openai_compatible, got http_bearer" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    ("model", "status", "code", "text"),
    [
        ("broken", 503, "SERVICE_UNAVAILABLE", "The AI provider is unavailable"),
        ("busy", 503, "SERVICE_UNAVAILABLE", "rate limited"),
        ("unknown", 400, "VALIDATION_ERROR", "does not exist"),
    ],
)
def test_upstream_errors(auth_client, openai_credential, model, status, code, text):
    response = chat(auth_client, credential_id=str(openai_credential.pk), model=model)
    assert response.status_code == status
    assert response.json()["error"]["code"] == code
    assert text in response.json()["error"]["message"]
    if model == "busy":
        assert response["Retry-After"] == "7"  # the provider's own, passed on
    if status == 503:
        assert response.json()["error"]["reason"] == "AI_PROVIDER_UNAVAILABLE"
    assert not AIUsage.objects.exists()


def test_a_rejected_key_is_a_400_on_the_credential(auth_client, make_credential, openai_server):
    credential = make_credential(
        "openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": "sk-bad-000000"}
    )
    response = chat(auth_client, credential_id=str(credential.pk))
    assert response.status_code == 400
    assert response.json()["error"]["details"][0]["field"] == "credential_id"
    assert "sk-bad-000000" not in response.content.decode()


def test_image_generate(auth_client, openai_credential, openai_server):
    response = auth_client.post(
        "/api/v1/ai/image/generate",
        {"prompt": "a lighthouse", "size": "1024x1024", "n": 2, "credential_id": str(openai_credential.pk)},
        format="json",
    )
    assert response.status_code == 200, response.json()
    body = response.json()
    assert len(body["images"]) == 2
    assert base64.b64decode(body["images"][0]["b64_json"]) == b"\x89PNG fake"
    assert body["model"] == "dall-e-3"
    assert body["cost"] == pytest.approx(0.08)  # 2 images at 0.04
    sent = json.loads(openai_server.hits[-1]["body"])
    assert sent == {"model": "dall-e-3", "prompt": "a lighthouse", "n": 2, "size": "1024x1024"}
    usage = AIUsage.objects.get()
    assert (usage.kind, usage.images, usage.cost) == ("image_generate", 2, Decimal("0.08"))


def test_image_analyze_sends_an_image_part(auth_client, openai_credential, openai_server):
    image = base64.b64encode(b"\x89PNG\r\n\x1a\n tiny").decode()
    response = auth_client.post(
        "/api/v1/ai/image/analyze",
        {"prompt": "What is in it?", "image_base64": image, "mime_type": "image/png", "model": "test-vision"},
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert response.json()["text"] == "echo: 2 parts: text, image_url"
    content = json.loads(openai_server.hits[-1]["body"])["messages"][0]["content"]
    assert content == [
        {"type": "text", "text": "What is in it?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{image}"}},
    ]
    assert AIUsage.objects.get().kind == "image_analyze"


@pytest.mark.parametrize(
    ("url", "body", "field"),
    [
        ("/api/v1/ai/chat", {"messages": []}, "messages"),
        ("/api/v1/ai/chat", {"messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ("/api/v1/ai/chat", {"messages": [{"role": "user", "content": "x"}], "temperature": 5}, "temperature"),
        ("/api/v1/ai/image/generate", {"prompt": "x", "size": "3x3"}, "size"),
        ("/api/v1/ai/image/analyze", {"prompt": "x"}, "image_url"),
        ("/api/v1/ai/image/analyze", {"prompt": "x", "image_base64": "***"}, "image_base64"),
        ("/api/v1/ai/image/analyze", {"prompt": "x", "image_url": "file:///etc/passwd"}, "image_url"),
    ],
)
def test_bad_input(auth_client, url, body, field):
    response = auth_client.post(url, body, format="json")
    assert response.status_code == 400
    assert field in {d["field"] for d in response.json()["error"]["details"]}, response.json()


def test_usage_is_per_user(make_user, openai_server, make_credential):
    first, second = make_user(), make_user()
    for owner in (first, second):
        credential = make_credential(
            "openai_compatible", {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY}, owner=owner
        )
        assert chat(client_for(owner), credential_id=str(credential.pk)).status_code == 200
    assert AIUsage.objects.filter(user=first).count() == AIUsage.objects.filter(user=second).count() == 1
