"""File fixtures: bytes stored in a temporary directory; the loopback servers nodes reading files talk to."""

from __future__ import annotations

import pytest

from tests.integrations.factories import make_credential, openai_credential  # noqa: F401  (fixtures)
from tests.integrations.servers import (  # noqa: F401  (fixtures)
    internal_server,
    internal_v6_server,
    openai_server,
    servers,
    target_server,
)


@pytest.fixture(autouse=True)
def file_storage_dir(settings, tmp_path):
    location = tmp_path / "files"
    settings.STORAGES = {
        **settings.STORAGES,
        "files": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": str(location)}},
    }
    return location
