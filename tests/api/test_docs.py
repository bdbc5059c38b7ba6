"""OpenAPI schema and the offline docs."""

from __future__ import annotations

import pytest
from django.core.management import call_command

pytestmark = pytest.mark.django_db


def test_schema_validates_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yaml"))
    assert "/api/v1/auth/login" in (tmp_path / "schema.yaml").read_text()


def test_schema_endpoints(client):
    assert client.get("/api/schema/").status_code == 200
    body = client.get("/openapi.json").json()
    assert body["openapi"].startswith("3.")
    login = body["paths"]["/api/v1/auth/login"]["post"]
    assert login["responses"]["401"]["content"]["application/json"]["schema"] == {"$ref": "#/components/schemas/Error"}


@pytest.mark.parametrize("url", ["/docs", "/redoc"])
def test_docs_are_served_offline(client, url):
    response = client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/drf_spectacular_sidecar/" in html
    assert "cdn.jsdelivr" not in html


@pytest.fixture
def schema(client) -> dict:
    return client.get("/openapi.json").json()


def test_every_operation_is_summarised_in_users_words(schema):
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            where = f"{method.upper()} {path}"
            assert operation.get("summary"), f"{where} has no summary"
            description = operation.get("description", "")
            for internal in ("Base of", "input_serializer", "call ``service``", "One gateway call"):
                assert internal not in description, f"{where}: {description!r}"


def test_definition_bodies_show_the_real_schema_with_an_example_that_validates(schema, auth_client):
    components = schema["components"]["schemas"]
    definition = components["WorkflowInputRequest"]["properties"]["definition"]
    assert {"$ref": "#/components/schemas/WorkflowDefinition"} in definition["anyOf"]
    node = components["WorkflowNode"]["properties"]
    assert set(node) >= {"id", "type", "config", "retry", "on_error", "timeout_seconds"}
    assert node["on_error"]["enum"] == ["stop", "continue", "error_port"]
    assert "source_port" in components["WorkflowEdge"]["properties"]
    read = components["WorkflowDetail"]["properties"]["definition"]
    assert {"$ref": "#/components/schemas/WorkflowDefinition"} in read.get("allOf", [read])
    example = components["WorkflowDefinition"]["example"]
    answer = auth_client.post("/api/v1/workflows/validate", {"definition": example}, format="json").json()
    assert answer["valid"], answer["errors"]
    created = auth_client.post("/api/v1/workflows", {"name": "from the docs", "definition": example}, format="json")
    assert created.status_code == 201, created.content
