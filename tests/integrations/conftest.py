"""Fixtures of the integration tests: the loopback servers (tests/integrations/servers.py) and credentials."""

from __future__ import annotations

from tests.integrations.factories import make_credential, openai_credential  # noqa: F401  (fixtures)
from tests.integrations.servers import (  # noqa: F401  (fixtures)
    internal_server,
    internal_v6_server,
    openai_server,
    servers,
    smtp_server,
    target_server,
)
