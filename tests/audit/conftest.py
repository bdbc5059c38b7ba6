from __future__ import annotations

from tests.executions.conftest import inline_engine  # noqa: F401  (the fixture, for runs driven in-thread)
