"""The local peers of tests/integrations, for running workflows
made from templates."""

from __future__ import annotations

from tests.integrations.factories import make_credential  # noqa: F401  (a fixture)
from tests.integrations.servers import (  # noqa: F401  (fixtures)
    internal_server,
    internal_v6_server,
    openai_server,
    servers,
    target_server,
)
