"""Credentials made the way the API makes them (validated, encrypted), for tests."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from accounts.models import User
from integrations.models import Credential
from integrations.services import credential_create


@pytest.fixture
def make_credential(user) -> Callable[..., Credential]:
    counter = iter(range(1, 10_000))

    def make(type: str, data: dict[str, Any], *, owner: User | None = None, name: str | None = None) -> Credential:
        return credential_create(owner=owner or user, name=name or f"{type} {next(counter)}", type=type, data=data)

    return make
