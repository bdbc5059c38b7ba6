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
        return data
