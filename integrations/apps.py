from __future__ import annotations

from typing import Any

from django.apps import AppConfig
from django.core import checks


class IntegrationsConfig(AppConfig):
    name = "integrations"

    def ready(self) -> None:
        from executions.engine import credentials
        from integrations.runtime import DatabaseCredentialStore

        credentials.install(DatabaseCredentialStore())
        checks.register(check_encryption_keys, checks.Tags.security)


def check_encryption_keys(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    """A malformed FLOWBUILDER_ENCRYPTION_KEYS fails at start-up, not at the first credential."""
    from django.core.exceptions import ImproperlyConfigured

    from integrations import crypto

    try:
        crypto.check_keys()
    except ImproperlyConfigured as exc:
        return [checks.Error(str(exc), id="integrations.E001")]
    return []
