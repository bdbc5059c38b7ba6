"""The loopback servers (tests/integrations/servers.py) for the seed examples."""

from __future__ import annotations

from tests.integrations.servers import (  # noqa: F401  (fixtures)
    internal_server,
    internal_v6_server,
    openai_server,
    servers,
    target_server,
)
