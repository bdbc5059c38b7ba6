"""Making a client's file name safe to keep, show and send back in Content-Disposition."""

from __future__ import annotations

import re
import unicodedata

MAX_NAME_BYTES = 255
_FORBIDDEN = re.compile(r'[<>:"|?*]')
_WINDOWS_DEVICES = frozenset(
    {"con", "prn", "aux", "nul", *(f"com{i}" for i in range(1, 10)), *(f"lpt{i}" for i in range(1, 10))}
)


def safe_filename(raw: str | None) -> str:
    """A name without a path, control characters, reserved characters or leading dots, at most 255 bytes.

    ``"../../etc/passwd"`` → ``"passwd"``; ``"a\\x00b.txt"`` → ``"ab.txt"``; an empty
    result → ``"file"``. The stored bytes never live under this name (storage keys are ids);
    it is only shown and used in downloads.
    """
    name = unicodedata.normalize("NFC", raw or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    # Category C: control, format (bidi overrides), surrogates, private use, unassigned.
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = _FORBIDDEN.sub("_", name)
    name = " ".join(name.split()).strip(" .")
    if not name:
        return "file"
    stem, dot, extension = name.rpartition(".")
    if not dot:
        stem, extension = name, ""
    if stem.lower() in _WINDOWS_DEVICES:
        name = f"_{name}"
    return _truncate(name, extension)


def _truncate(name: str, extension: str) -> str:
    if len(name.encode()) <= MAX_NAME_BYTES:
        return name
    suffix = f".{extension}" if extension and len(extension.encode()) <= 16 else ""
    stem = name[: len(name) - len(suffix)] if suffix else name
    budget = MAX_NAME_BYTES - len(suffix.encode())
    while len(stem.encode()) > budget:
        stem = stem[:-1]
    return stem + suffix
