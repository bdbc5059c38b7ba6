"""The loopback servers (tests/integrations/servers.py) for the fuzzing run's AI provider."""

from __future__ import annotations

from tests.integrations.servers import openai_server, servers  # noqa: F401  (fixtures)
