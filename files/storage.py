"""Where file bytes live: Django's storage alias ``files`` (local disk, or S3-compatible by settings)."""

from __future__ import annotations

from django.core.files.storage import Storage, storages


def file_storage() -> Storage:
    """The ``files`` storage, looked up at each use so that changed settings (tests) take effect."""
    return storages["files"]


def storage_key(owner_id: object, file_id: object) -> str:
    """``<owner id>/<file id>``: never the client's name, so no name can escape or collide."""
    return f"{owner_id}/{file_id}"
