"""Files as nodes see them: references resolved for the run's owner through a store another app installs.

The engine does not know where files live. The ``files`` app installs a
:class:`FileStore` when Django starts (its ``AppConfig.ready``); nodes that
read files (``script``'s ``files``, ``http_request``'s ``body_file`` and
multipart ``files``, ``llm``'s ``images``) resolve each reference here, so
that every read is one of the run owner's files, whatever the definition
looked like when it was saved, and bounded by
``FLOWBUILDER_NODE_FILE_MAX_BYTES`` for all the files of one step together.

A reference is a file id (``"{{ input.file.id }}"`` rendered) or a file
reference object carrying one (``"{{ input.file }}"``). Every failure is a
non-retryable :class:`NodeError` naming the config field, except a storage
that could not be read (retryable). A file that is missing and a file of
another user fail with the same message, so a run cannot learn whether
someone else's file exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol

from django.conf import settings

from executions.engine.types import NodeContext, NodeError


@dataclass(frozen=True)
class FileInfo:
    """A file of the run's owner; ``read`` fetches its bytes (at most ``max_bytes`` + 1 of them)."""

    id: str
    name: str
    content_type: str
    category: str
    size: int
    reader: Callable[[int], bytes] = field(repr=False, compare=False)

    def describe(self) -> dict[str, Any]:
        """What a step may show about the file (dry runs): never its bytes."""
        return {"id": self.id, "name": self.name, "content_type": self.content_type, "size": self.size}


class FileStore(Protocol):
    def find(self, *, owner_id: Any, file_id: str) -> FileInfo | None:
        """The file ``file_id`` if ``owner_id`` owns it; None otherwise (missing, another user's, not an id).

        The returned ``reader(max_bytes)`` raises FileNotFoundError when the
        bytes are gone and OSError when the storage fails.
        """
        ...


_store: FileStore | None = None


def install(store: FileStore | None) -> None:
    global _store
    _store = store


def store() -> FileStore:
    if _store is None:
        raise NodeError("Files are not available: no file store is installed", retryable=False)
    return _store


def max_bytes() -> int:
    """How many bytes of files one step may read, all its files together."""
    return int(settings.FLOWBUILDER_NODE_FILE_MAX_BYTES)


def file_id_of(reference: Any, where: str) -> str:
    """The id a rendered reference names: a string, or a file reference object's ``id``."""
    if isinstance(reference, dict):
        reference = reference.get("id")
    if not isinstance(reference, str) or not reference.strip():
        raise NodeError(f"{where}: expected a file id (e.g. {{{{ input.file.id }}}})", retryable=False)
    return reference.strip()


Accept = Callable[[FileInfo], str | None]


def describe_files(
    ctx: NodeContext, references: Iterable[tuple[str, Any]], *, accept: Accept | None = None
) -> list[FileInfo]:
    """Resolve ``(where, reference)`` pairs to the owner's files, in order, without reading them.

    ``where`` is the config path a failure names (``"config.images[0]"``).
    ``accept`` may refuse a file with a message (``llm``: images only). Raises
    a non-retryable NodeError for a file the owner does not have ("File …
    not found"), one ``accept`` refuses, or files larger together than
    :func:`max_bytes`. Dry runs stop here: they show what would be sent.
    """
    limit = max_bytes()
    found: list[FileInfo] = []
    total = 0
    for where, reference in references:
        file_id = file_id_of(reference, where)
        info = store().find(owner_id=ctx.owner_id, file_id=file_id)
        if info is None:
            raise NodeError(f"{where}: File '{file_id}' not found", retryable=False)
        refusal = accept(info) if accept else None
        if refusal:
            raise NodeError(f"{where}: {refusal}", retryable=False)
        total += info.size
        if info.size > limit:
            raise NodeError(
                f"{where}: File '{info.name}' is {info.size:,} bytes; a step reads at most {limit:,} bytes of files",
                retryable=False,
            )
        if total > limit:
            raise NodeError(
                f"{where}: the step's files come to {total:,} bytes; a step reads at most {limit:,} bytes of files",
                retryable=False,
            )
        found.append(info)
    return found


def read_files(
    ctx: NodeContext, references: Iterable[tuple[str, Any]], *, accept: Accept | None = None
) -> list[tuple[FileInfo, bytes]]:
    """Like :func:`describe_files`, then the bytes of each file.

    A file deleted meanwhile fails like a missing one; a storage error is a
    retryable NodeError. Bytes beyond the file's recorded size (a storage
    changed behind the database's back) are refused, so the limit holds.
    """
    pairs = list(references)
    infos = describe_files(ctx, pairs, accept=accept)
    limit = max_bytes()
    read: list[tuple[FileInfo, bytes]] = []
    for (where, _), info in zip(pairs, infos, strict=True):
        try:
            data = info.reader(limit)
        except FileNotFoundError:
            raise NodeError(f"{where}: File '{info.id}' not found", retryable=False) from None
        except OSError as exc:
            raise NodeError(f"{where}: could not read file '{info.name}': {exc}") from None
        if len(data) > info.size:
            raise NodeError(
                f"{where}: File '{info.name}' holds more bytes than recorded ({info.size:,})", retryable=False
            )
        read.append((info, data))
    return read


def read_file(ctx: NodeContext, reference: Any, *, where: str, accept: Accept | None = None) -> tuple[FileInfo, bytes]:
    """One file and its bytes (see :func:`read_files`)."""
    return read_files(ctx, [(where, reference)], accept=accept)[0]
