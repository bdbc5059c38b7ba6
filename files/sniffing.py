"""What a file is, from its first bytes: the content type, and the category derived from it.

The client's Content-Type is never trusted. libmagic (python-magic) reads the
bytes when it is installed (the Docker image and CI have it); without it, the
pure-Python ``filetype`` recognises binary formats by signature and anything
that decodes as UTF-8 is text. :data:`BACKEND` says which one is active.
"""

from __future__ import annotations

import logging

import filetype

logger = logging.getLogger(__name__)

SNIFF_BYTES = 64 * 1024  # office formats are zips whose telling entry may sit a few kB in
OCTET_STREAM = "application/octet-stream"

try:
    import magic

    magic.from_buffer(b"", mime=True)
    BACKEND = "libmagic"
except (ImportError, OSError):  # no libmagic on this machine
    magic = None
    BACKEND = "filetype"

# A text file's finer type may come from the client's declaration, when it is one of these.
_TEXT_REFINEMENTS = frozenset(
    {"text/csv", "application/json", "text/markdown", "text/tab-separated-values", "application/x-ndjson"}
)
_DOCUMENT_TYPES = frozenset(
    {
        "application/pdf",
        "application/msword",
        "application/rtf",
        "text/rtf",
        "text/plain",
        "text/markdown",
        "text/html",
        "application/epub+zip",
        "application/vnd.ms-powerpoint",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.presentation",
    }
)
_DATA_TYPES = frozenset(
    {
        "text/csv",
        "text/tab-separated-values",
        "application/json",
        "application/x-ndjson",
        "application/xml",
        "text/xml",
        "application/yaml",
        "application/x-yaml",
        "application/vnd.ms-excel",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.oasis.opendocument.spreadsheet",
        "application/x-sqlite3",
        "application/vnd.sqlite3",
    }
)


def sniff(head: bytes, declared: str | None = None) -> str:
    """The content type of a file starting with ``head`` (its first :data:`SNIFF_BYTES`)."""
    detected = _detect(head) or OCTET_STREAM
    declared = (declared or "").split(";", 1)[0].strip().lower()
    if detected == "text/plain" and declared in _TEXT_REFINEMENTS:
        return declared
    return detected


def _detect(head: bytes) -> str | None:
    if not head:
        return None
    if magic is not None:
        return magic.from_buffer(head, mime=True)
    guessed = filetype.guess_mime(head)
    if guessed:
        return guessed
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        if exc.start < len(head) - 4:  # not just a character cut at the end of the sample
            return None
    return "text/plain"


def category_for(content_type: str) -> str:
    """``document``, ``image``, ``audio``, ``video``, ``data`` or ``other``."""
    major = content_type.split("/", 1)[0]
    if major in ("image", "audio", "video"):
        return major
    if content_type in _DOCUMENT_TYPES:
        return "document"
    if content_type in _DATA_TYPES or content_type.endswith(("+json", "+xml")):
        return "data"
    return "other"
