"""File reads: a user's own files only (another user's file is a 404), references, bytes for a run."""

from __future__ import annotations

from typing import Any, Protocol

from django.conf import settings
from django.db.models import QuerySet, Sum
from django.urls import reverse

from accounts.models import User
from files.models import StoredFile
from files.storage import file_storage
from flowbuilder.api.errors import NotFound, PayloadTooLarge
from flowbuilder.ids import parse_uuid


class FileNotAvailable(NotFound):
    """The file does not exist or does not belong to whoever asks (the run's owner)."""

    default_message = "File not found"


class HasOwner(Protocol):
    """An Execution, or a running node's NodeContext: both carry ``owner_id``."""

    owner_id: Any


def files_of(user: User) -> QuerySet[StoredFile]:
    return StoredFile.objects.filter(owner=user)


def file_get(user: User, file_id: Any) -> StoredFile:
    """``user``'s file; raises NotFound for anyone else's and for bad ids."""
    pk = parse_uuid(file_id)
    stored = files_of(user).filter(pk=pk).first() if pk else None
    if stored is None:
        raise FileNotAvailable()
    return stored


def storage_used(user: User) -> int:
    return files_of(user).aggregate(total=Sum("size"))["total"] or 0


def download_path(stored: StoredFile) -> str:
    return reverse("file-download", kwargs={"pk": stored.pk})


def file_reference(stored: StoredFile, *, base_url: str = "") -> dict[str, Any]:
    """What a run's input carries about a file (``trigger.manual``'s ``FILE_REFERENCE_SCHEMA``).

    ``download_url`` is absolute when ``base_url`` (scheme and host) is given; it
    needs the owner's credentials, as every API call does.
    """
    return {
        "id": str(stored.pk),
        "name": stored.name,
        "content_type": stored.content_type,
        "category": stored.category,
        "size": stored.size,
        "download_url": f"{base_url.rstrip('/')}{download_path(stored)}",
    }


def file_for_run(execution: HasOwner, file_id: Any) -> StoredFile:
    """The file ``file_id`` if the run's owner owns it; raises FileNotAvailable otherwise.

    Nodes that read files (script inputs, an HTTP body, an LLM's image) go
    through this, so a run can only ever see its owner's files.
    """
    pk = parse_uuid(file_id)
    stored = StoredFile.objects.filter(pk=pk, owner_id=execution.owner_id).first() if pk else None
    if stored is None:
        raise FileNotAvailable(f"File '{file_id}' not found")
    return stored


def file_bytes_for(execution: HasOwner, file_id: Any, *, max_bytes: int | None = None) -> tuple[StoredFile, bytes]:
    """The file and its bytes, for a node of ``execution`` (see :func:`file_for_run`).

    Raises PayloadTooLarge when it is larger than ``max_bytes`` (default: the
    upload limit) rather than reading a huge file into memory.
    """
    stored = file_for_run(execution, file_id)
    limit = settings.FLOWBUILDER_FILE_MAX_BYTES if max_bytes is None else max_bytes
    if stored.size > limit:
        raise PayloadTooLarge(f"File '{stored.name}' is {stored.size:,} bytes; a step reads at most {limit:,}")
    with file_storage().open(stored.key, "rb") as handle:
        return stored, handle.read()
