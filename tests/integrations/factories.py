"""Credentials made the way the API makes them (validated, encrypted), for tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from integrations.models import Credential
from integrations.services import credential_create
from tests.integrations.servers import OPENAI_KEY


@pytest.fixture
def make_credential(user) -> Callable[..., Credential]:
    counter = iter(range(1, 10_000))

    def make(type: str, data: dict[str, Any], *, owner: User | None = None, name: str | None = None) -> Credential:
        return credential_create(owner=owner or user, name=name or f"{type} {next(counter)}", type=type, data=data)

    return make


@pytest.fixture
def openai_credential(make_credential, openai_server) -> Credential:
    """An openai_compatible credential of the user's, on the loopback OpenAI server."""
    return make_credential(
        "openai_compatible",
        {"base_url": openai_server.url("/v1"), "api_key": OPENAI_KEY, "default_model": "gpt-4o-mini"},
    )
