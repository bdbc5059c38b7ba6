"""Revocation reaches open sockets: unsharing, revoking a key, changing a password and expiry close them.

Each scenario: the socket is open and following a workflow; the access behind it goes away through the
REST API (committed, as in production); the socket is closed within seconds with 4403 or 4401.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from django.utils import timezone

from accounts.services import api_key_create
from tests.clients import client_for
from tests.executions.live.helpers import Socket, token_for
from tests.factories import DEFAULT_PASSWORD, WorkflowFactory
from workflows.models import WorkflowShare

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def follow_then(path: str, revoke) -> int:
    """Open ``path``, wait for its first message, call ``revoke`` (sync), answer the close code."""

    async def scenario() -> int:
        async with Socket(path) as ws:
            first = await ws.receive_update()
            assert first["type"] in ("active_executions", "subscribed", "snapshot"), first
            await sync_to_async(revoke)()
            while True:
                output = await ws.communicator.receive_output(timeout=10)
                if output["type"] == "websocket.close":
                    return output["code"]

    return async_to_sync(scenario)()


def test_unsharing_closes_the_sharers_workflow_socket(user, make_user):
    workflow = WorkflowFactory(owner=user)
    viewer = make_user()
    WorkflowShare.objects.create(workflow=workflow, user=viewer, role=WorkflowShare.Role.VIEWER)
    owner = client_for(user)

    def unshare():
        assert owner.delete(f"/api/v1/workflows/{workflow.pk}/shares/{viewer.pk}").status_code == 204

    assert follow_then(f"/ws/workflows/{workflow.pk}/?token={token_for(viewer)}", unshare) == 4403


def test_revoking_the_key_closes_its_sockets(user):
    workflow = WorkflowFactory(owner=user)
    key, raw = api_key_create(
        user=user, granted=user.api_permissions, name="ci", scopes=["workflow:read", "execution:read"]
    )
    owner = client_for(user)

    def revoke():
        assert owner.delete(f"/api/v1/api-keys/{key.pk}").status_code == 204

    assert follow_then(f"/ws/workflows/{workflow.pk}/?api_key={raw}", revoke) == 4401


def test_changing_the_password_closes_sockets_opened_with_older_tokens(user):
    token = token_for(user)
    me = client_for(user)

    def change():
        body = {"current_password": DEFAULT_PASSWORD, "new_password": "An0ther-long-passphrase"}
        assert me.post("/api/v1/auth/password", body, format="json").status_code == 204

    assert follow_then(f"/ws/notifications/?token={token}", change) == 4401


def test_logging_out_closes_the_sessions_sockets_and_ends_its_access_tokens(user, api_client):
    from accounts.services import token_pair_issue, token_refresh

    first = token_pair_issue(user=user)
    refreshed = token_refresh(refresh_token=first.refresh_token)  # same session, new pair
    other_session = token_pair_issue(user=user)

    def logout():
        response = api_client.post("/api/v1/auth/logout", {"refresh_token": refreshed.refresh_token}, format="json")
        assert response.status_code in (200, 204), response.content

    assert follow_then(f"/ws/notifications/?token={refreshed.access_token}", logout) == 4401
    for token, expected in (
        (first.access_token, 401),
        (refreshed.access_token, 401),
        (other_session.access_token, 200),
    ):
        api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        assert api_client.get("/api/v1/auth/me").status_code == expected
    api_client.credentials()


def test_a_socket_closes_when_its_key_expires(user):
    workflow = WorkflowFactory(owner=user)
    _, raw = api_key_create(
        user=user,
        granted=user.api_permissions,
        name="short",
        scopes=["workflow:read", "execution:read"],
        expires_at=timezone.now() + timedelta(seconds=2),
    )
    assert follow_then(f"/ws/workflows/{workflow.pk}/?api_key={raw}", lambda: None) == 4401


def test_a_socket_whose_access_still_holds_stays_open(user, make_user):
    workflow = WorkflowFactory(owner=user)
    viewer, other = make_user(), make_user()
    WorkflowShare.objects.create(workflow=workflow, user=viewer, role=WorkflowShare.Role.VIEWER)
    WorkflowShare.objects.create(workflow=workflow, user=other, role=WorkflowShare.Role.VIEWER)
    owner = client_for(user)
    token = token_for(viewer)

    async def scenario() -> bool:
        async with Socket(f"/ws/workflows/{workflow.pk}/?token={token}") as ws:
            await ws.receive_update()
            response = await sync_to_async(owner.delete)(f"/api/v1/workflows/{workflow.pk}/shares/{other.pk}")
            assert response.status_code == 204
            return await ws.nothing(timeout=1.5)

    assert async_to_sync(scenario)()  # someone else's share went: this socket checked again and stayed
