"""Fixtures of the workflow tests: credentials (for references in definitions), and no broker for committed runs."""

from __future__ import annotations

import pytest

from tests.integrations.factories import make_credential  # noqa: F401  (fixture)


@pytest.fixture
def no_dispatch():
    """Committed runs are not sent to the broker: a session worker would run them during the teardown's flush."""
    from executions.engine import dispatch
    from executions.tasks import CeleryDispatcher
    from tests.engine_fixtures import DroppingDispatcher

    dispatcher = DroppingDispatcher()
    dispatch.install(dispatcher)
    yield dispatcher
    dispatch.install(CeleryDispatcher())
