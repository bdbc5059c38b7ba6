"""Credentials for the tests of the credential references in definitions."""

from __future__ import annotations

from tests.integrations.factories import make_credential  # noqa: F401  (fixture)
