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
