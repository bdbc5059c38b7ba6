"""The engine fixtures of tests/executions, for running workflows made from templates."""

from __future__ import annotations

from tests.executions.conftest import inline_engine  # noqa: F401  (a fixture)
