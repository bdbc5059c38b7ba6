"""A JSON parser that bounds size and nesting before anything else sees the data."""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from flowbuilder.api.errors import PayloadTooLarge, ValidationFailed


def json_depth_exceeds(value: Any, limit: int) -> bool:
    """True when ``value`` nests lists/objects deeper than ``limit`` (iterative: no recursion)."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


NUL_MESSAGE = "Text may not contain the NUL character (\\u0000): the database cannot store it"


def nul_path(value: Any, prefix: str = "") -> str | None:
    """The path of the first string (or object key) in ``value`` holding a NUL character ("" at the
    top), else None.

    PostgreSQL's text and jsonb cannot hold ``\\u0000``; one rule for every input: refuse it at the
    field (step outputs, which a node produces, are sanitised instead). Iterative: no recursion.
    """
    stack: list[tuple[Any, str]] = [(value, prefix)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return path
        elif isinstance(item, dict):
            for key, child in item.items():
                if isinstance(key, str) and "\x00" in key:
                    return path
                stack.append((child, f"{path}.{key}" if path else str(key)))
        elif isinstance(item, list):
            stack.extend((child, f"{path}[{index}]") for index, child in enumerate(item))
    return None


def reject_nul(value: Any, prefix: str = "") -> None:
    """Raise ValidationFailed at the path of a NUL character in ``value``."""
    path = nul_path(value, prefix)
    if path is not None:
        raise ValidationFailed(NUL_MESSAGE, details=[{"field": path or None, "message": NUL_MESSAGE}])


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


class DepthLimitedJSONParser(JSONParser):
    """Parses JSON bodies, refusing oversize (413) and too-deep (400) documents."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: dict | None = None) -> Any:
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.API_MAX_BODY_BYTES
        raw = stream.read(limit + 1) if stream is not None else b""
        if len(raw) > limit:
            raise PayloadTooLarge(f"Request body too large: the limit is {limit} bytes")
        try:
            data = json.loads(raw.decode(encoding), parse_constant=_reject_constant)
        except RecursionError:
            data = None
            too_deep = True
        except (ValueError, UnicodeDecodeError) as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        else:
            too_deep = json_depth_exceeds(data, settings.API_MAX_JSON_DEPTH)
        if too_deep:
            raise ValidationFailed(
                f"JSON nested deeper than {settings.API_MAX_JSON_DEPTH} levels",
                details=[{"field": None, "message": "JSON nested too deeply"}],
            )
        reject_nul(data)
        return data
