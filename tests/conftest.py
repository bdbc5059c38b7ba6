"""Shared fixtures: API clients authenticated as fresh users, a clean cache."""

from __future__ import annotations

import os

# Test-only node types (flaky, slow): registered here, and named for subprocess workers.
os.environ.setdefault("FLOWBUILDER_EXTRA_NODE_MODULES", "tests.executions.nodes")

from collections.abc import Callable

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from accounts.models import User
from tests.clients import client_for
from tests.executions import nodes as _test_nodes  # noqa: F401  (registers test.flaky, test.slow)
from tests.factories import UserFactory

# The engine fixtures (celery_worker, inline_engine) for every test package.
pytest_plugins = ["tests.engine_fixtures"]


@pytest.fixture(autouse=True)
def _fast_hashing_and_clean_cache(settings):
    # Argon2 with production cost makes every created user take ~0.1 s; one
    # test checks Argon2 itself. The cache holds rate-limit counters.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def make_user(db) -> Callable[..., User]:
    return UserFactory


@pytest.fixture
def user(make_user) -> User:
    return make_user()


@pytest.fixture
def auth_client(user) -> APIClient:
    return client_for(user)
