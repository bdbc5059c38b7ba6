"""Live-update fixtures: websocket clients on the real ASGI app, a uvicorn server on the test database."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.executions.live.helpers import running_server, server_env
from workflows.services import workflow_create


@pytest.fixture(autouse=True)
def fresh_channel_layer():
    """A channel layer instance per test: each test runs its own event loop, and channels-redis binds its
    receive lock to the loop of the receives in progress; a consumer cancelled in the middle of a blocking
    read (``disconnect`` waits 1 s for it) would leave that lock to the next test's loop."""
    from channels.layers import channel_layers

    channel_layers.backends.pop("default", None)
    yield
    channel_layers.backends.pop("default", None)


@pytest.fixture
def make_workflow(user) -> Callable[..., Any]:
    def make(definition, owner=None, name="live"):
        return workflow_create(owner=owner or user, name=name, definition=definition)

    return make


@pytest.fixture(scope="module")
def asgi_server(django_db_setup, tmp_path_factory):
    """uvicorn in a subprocess on the test database and the tests' Redis (its channel layer too)."""
    log_path = tmp_path_factory.mktemp("asgi") / "server.log"
    with running_server(server_env(FLOWBUILDER_LIVE_HEARTBEAT_SECONDS="1"), log_path) as base:
        yield base
