"""Scopes as the one gate: every endpoint declares what it needs, and a narrow key can do no more.

Each attack below is what a leaked key of a given scope tried, and what it gets now.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone
from rest_framework.permissions import AllowAny
from rest_framework.test import APIClient

from accounts.models import ApiKey
from accounts.permissions import HasApiPermission, IsStaff, needed_permission
from accounts.roles import PERMISSIONS
from accounts.services import api_key_create
from executions.models import Execution, StepRun
from files.models import StoredFile
from tests.executions.test_api import approval_definition, steps_for
from tests.factories import ExecutionFactory, WorkflowFactory
from workflows.models import WorkflowShare

pytestmark = pytest.mark.django_db

# Views open without a permission, and why.
EXEMPT = {
    "RegisterView": "signs up: no account yet",
    "LoginView": "signs in: no account yet",
    "OAuth2TokenView": "signs in: no account yet",
    "RefreshView": "the refresh token is the credential",
    "LogoutView": "the refresh token is the credential",
    "GuestView": "starts a guest session (rate-limited per client and globally)",
    "HealthView": "for load balancers; says up or down and nothing else",
    "SpectacularAPIView": "the public API description",
    "MetricsView": "staff only",
    "AuditEventListView": "staff only",
}
METHODS = ("get", "post", "put", "patch", "delete")


def _api_views():
    def walk(patterns, prefix=""):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern):
                yield prefix + str(pattern.pattern), pattern.callback

    for path, callback in walk(get_resolver().url_patterns):
        view_class = getattr(callback, "cls", None)
        if path.startswith("api/") and view_class is not None and "format" not in path:
            yield path, view_class, getattr(callback, "actions", None)


def test_every_endpoint_declares_the_permission_it_needs():
    undeclared = []
    for path, view_class, actions in _api_views():
        classes = set(view_class.permission_classes)
        if view_class.__name__ in EXEMPT:
            assert classes & {AllowAny, IsStaff}, f"{view_class.__name__} is exempt but not open or staff-only"
            continue
        if HasApiPermission not in classes:
            undeclared.append((path, view_class.__name__, "no HasApiPermission"))
            continue
        view = view_class()
        methods = actions.items() if actions else [(m, None) for m in METHODS if hasattr(view_class, m)]
        for method, action in methods:
            view.action = action
            needed = needed_permission(view, method.upper())
            if needed is None:
                undeclared.append((path, view_class.__name__, method))
            else:
                assert needed == "authenticated" or needed in PERMISSIONS, (path, method, needed)
    assert undeclared == []


def test_the_walk_sees_every_api_view():
    names = {view_class.__name__ for _, view_class, _ in _api_views()}
    assert {"WorkflowViewSet", "FileViewSet", "ApiKeyViewSet", "UsageView", "ExecutionViewSet"} <= names
    assert set(EXEMPT) <= names


# --- what narrow keys tried ----------------------------------------------------------------


def key_client(user, scopes, **kwargs) -> tuple[APIClient, ApiKey]:
    key, raw = api_key_create(user=user, granted=user.api_permissions, name="leaked", scopes=scopes, **kwargs)
    client = APIClient()
    client.credentials(HTTP_X_API_KEY=raw)
    return client, key


def test_a_read_only_key_cannot_share_a_workflow(user, make_user):
    workflow = WorkflowFactory(owner=user)
    other = make_user()
    client, _ = key_client(user, ["workflow:read", "execution:read"])
    response = client.post(
        f"/api/v1/workflows/{workflow.pk}/shares", {"email": other.email, "role": "editor"}, format="json"
    )
    assert response.status_code == 403, response.content
    assert "workflow:update" in response.json()["error"]["message"]
    assert not WorkflowShare.objects.exists()
    assert client.get(f"/api/v1/workflows/{workflow.pk}/shares").status_code == 200  # reading them is fine


def test_a_read_only_key_cannot_decide_an_approval(user):
    workflow = WorkflowFactory(owner=user, definition=approval_definition())
    execution = ExecutionFactory(workflow=workflow, status=Execution.Status.WAITING)
    steps_for(execution, ask=StepRun.Status.WAITING, yes=StepRun.Status.PENDING, no=StepRun.Status.PENDING)
    client, _ = key_client(user, ["workflow:read", "execution:read"])
    response = client.post(f"/api/v1/executions/{execution.pk}/steps/ask/approve", {}, format="json")
    assert response.status_code == 403
    assert StepRun.objects.get(execution=execution, node_id="ask").status == StepRun.Status.WAITING


def test_a_template_key_touches_no_files_keys_or_analytics(user, auth_client):
    upload = auth_client.post(
        "/api/v1/files/upload", {"file": SimpleUploadedFile("a.txt", b"hello", "text/plain")}, format="multipart"
    )
    assert upload.status_code == 201, upload.content
    file_id = upload.json()["id"]
    full_key = ApiKey.objects.create(user=user, name="full", prefix="abcdef123456", key_hash="x" * 64, scopes=[])
    client, _ = key_client(user, ["template:read"])
    refused = {
        "list files": client.get("/api/v1/files"),
        "download": client.get(f"/api/v1/files/{file_id}/download"),
        "upload": client.post(
            "/api/v1/files/upload", {"file": SimpleUploadedFile("b.txt", b"x", "text/plain")}, format="multipart"
        ),
        "delete file": client.delete(f"/api/v1/files/{file_id}"),
        "list keys": client.get("/api/v1/api-keys"),
        "delete key": client.delete(f"/api/v1/api-keys/{full_key.pk}"),
        "mint key": client.post("/api/v1/api-keys", {"name": "new", "scopes": ["template:read"]}, format="json"),
        "analytics": client.get("/api/v1/analytics/usage"),
        "change password": client.post(
            "/api/v1/auth/password", {"current_password": "x", "new_password": "y" * 12}, format="json"
        ),
    }
    assert {name: r.status_code for name, r in refused.items()} == dict.fromkeys(refused, 403)
    assert StoredFile.objects.filter(pk=file_id).exists()
    full_key.refresh_from_db()
    assert full_key.revoked_at is None
    assert ApiKey.objects.count() == 2
    assert client.get("/api/v1/templates").status_code == 200  # what it was made for


def test_a_key_mints_only_narrower_keys_that_do_not_outlive_it(user):
    expires = timezone.now() + timedelta(seconds=20)
    client, parent = key_client(user, ["api_key:write", "workflow:read"], expires_at=expires)
    wider = client.post("/api/v1/api-keys", {"name": "wider", "scopes": ["workflow:delete"]}, format="json")
    assert wider.status_code == 403
    longer = client.post(
        "/api/v1/api-keys",
        {"name": "longer", "scopes": ["workflow:read"], "expires_at": (expires + timedelta(days=1)).isoformat()},
        format="json",
    )
    assert longer.status_code == 403
    assert longer.json()["error"]["details"][0]["field"] == "expires_at"
    child = client.post("/api/v1/api-keys", {"name": "child", "scopes": ["workflow:read"]}, format="json")
    assert child.status_code == 201, child.content
    assert ApiKey.objects.get(pk=child.json()["id"]).expires_at == parent.expires_at
    assert child.json()["scopes"] == ["workflow:read"]


def test_a_persons_session_manages_keys_and_reads_analytics(auth_client):
    assert auth_client.get("/api/v1/api-keys").status_code == 200
    assert auth_client.get("/api/v1/analytics/usage").status_code == 200
    assert auth_client.get("/api/v1/files").status_code == 200
