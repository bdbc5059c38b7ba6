"""Where file bytes live: Django's storage alias ``files`` (local disk, or S3-compatible by settings)."""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def file_storage() -> Storage:
    """The ``files`` storage; a callable so that migrations do not depend on the settings."""
    return storages["files"]
