"""Live-update fixtures: websocket clients on the real ASGI app, a uvicorn server on the test database."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import pytest
from django.conf import settings

from tests.executions.live.helpers import database_url, start_server
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
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "REDIS_URL": settings.REDIS_URL,
        "SECRET_KEY": settings.SECRET_KEY,
        "FLOWBUILDER_EMBEDDED_WORKER": "false",
        "CONN_MAX_AGE": "0",  # the tests' flushes and the final DROP DATABASE need idle connections closed
        "FLOWBUILDER_LIVE_HEARTBEAT_SECONDS": "1",
    }
    server, base = start_server(env, log_path)
    yield base
    server.terminate()
    server.wait(10)
