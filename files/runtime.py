"""The engine's file store (installed in ``FilesConfig.ready``): a run reads only its owner's files.

Nodes resolve file references through :mod:`executions.engine.files`, which
asks this store; ownership is checked here on every run, whatever the
definition said when it was saved.
"""

from __future__ import annotations

from typing import Any

from executions.engine.files import FileInfo
from files import selectors
from files.storage import file_storage


class _Run:
    """What :func:`files.selectors.file_for_run` needs of a run: its owner."""

    def __init__(self, owner_id: Any) -> None:
        self.owner_id = owner_id


class StoredFileStore:
    def find(self, *, owner_id: Any, file_id: str) -> FileInfo | None:
        try:
            stored = selectors.file_for_run(_Run(owner_id), file_id)
        except selectors.FileNotAvailable:
            return None
        return FileInfo(
            id=str(stored.pk),
            name=stored.name,
            content_type=stored.content_type,
            category=stored.category,
            size=stored.size,
            reader=lambda limit, key=stored.key: _read(key, limit),
        )


def _read(key: str, limit: int) -> bytes:
    """At most ``limit`` + 1 bytes of the stored object (one more shows that it is larger).

    Raises FileNotFoundError when the bytes are gone, OSError when the storage fails
    (a remote storage's own errors included: they are worth a retry).
    """
    try:
        with file_storage().open(key, "rb") as handle:
            return handle.read(limit + 1)
    except OSError:
        raise
    except Exception as exc:  # e.g. botocore's ClientError from an S3-compatible store
        raise OSError(f"{type(exc).__name__}: {exc}") from exc
