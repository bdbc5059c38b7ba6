"""Data: Set / Edit Fields → transform; Code, Function, Function Item → script (code kept as a comment)."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from workflows.importers.n8n import conditions
from workflows.importers.n8n.base import Converted, Source, Unsupported


def set_fields(src: Source) -> Converted:
    """Set / Edit Fields: the assignments become the transform's value."""
    if src.param("mode", default="manual") == "raw":
        value = src.json_parameter("jsonOutput", into="value")
        if not isinstance(value, dict | str):
            raise Unsupported("its JSON output is not an object")
        _warn_other_fields(src, src.param("includeOtherFields", default=False))
        return Converted("transform", {"value": value})
    dotted = src.param("options", "dotNotation", default=True)
    value: dict[str, Any] = {}
    for name, item, at in _assignments(src):
        _put(value, name.split(".") if dotted else [name], src.template(item, at=at, into=f"value.{name}"))
    if src.version >= 3.3:
        _warn_other_fields(src, src.param("includeOtherFields", default=False))
    elif src.version >= 3:
        _warn_other_fields(src, src.param("include", default="all") != "none")
    else:
        _warn_other_fields(src, not src.param("keepOnlySet", default=False))
    return Converted("transform", {"value": value})


def _assignments(src: Source) -> list[tuple[str, Any, str]]:
    """(name, typed value, parameter path) of each field Set assigns, whatever its version."""
    found: list[tuple[str, Any, str]] = []
    if src.version >= 3.3:
        for index, item in enumerate(src.param("assignments", "assignments", default=[])):
            if isinstance(item, Mapping) and item.get("name"):
                found.append((item["name"], _typed(item.get("value"), item.get("type")), f"assignments[{index}]"))
    elif src.version >= 3:
        for index, item in enumerate(src.param("fields", "values", default=[])):
            kind = str(item.get("type", "stringValue")) if isinstance(item, Mapping) else ""
            if kind and item.get("name"):
                found.append((item["name"], _typed(item.get(kind), kind[: -len("Value")]), f"fields.values[{index}]"))
    else:
        for kind, items in (src.param("values", default={}) or {}).items():
            for index, item in enumerate(items or []):
                if isinstance(item, Mapping) and item.get("name"):
                    found.append((item["name"], _typed(item.get("value"), kind), f"values.{kind}[{index}]"))
    return found


def _typed(value: Any, kind: Any) -> Any:
    """A literal as the type n8n gives it (``"5"`` as number → 5); expressions are left to translate."""
    if not isinstance(value, str) or value.startswith("="):
        return value
    try:
        if kind == "number":
            return conditions.as_number(value)
        if kind == "boolean":
            return value.strip().lower() == "true"
        if kind in ("array", "object", "json"):
            return json.loads(value)
    except ValueError:
        pass
    return value


def _put(target: dict[str, Any], path: list[str], value: Any) -> None:
    """``target[a][b] = value`` for ``path == ["a", "b"]`` (n8n's dot notation), making the dicts on the way."""
    for key in path[:-1]:
        child = target.get(key)
        if not isinstance(child, dict):
            child = target[key] = {}
        target = child
    target[path[-1]] = value


def _warn_other_fields(src: Source, included: Any) -> None:
    if included:
        src.warn("also passed the other input fields on; the transform outputs only the fields it sets")


def code(src: Source) -> Converted:
    """Code / Function / Function Item: the code is kept as a comment; the script passes its input through."""
    language = src.param("language", default="javaScript")
    python = language in ("python", "pythonNative")
    source = src.param("pythonCode" if python else "jsCode", default=src.param("functionCode", default=""))
    lines = [
        f"# Imported from the n8n node '{src.node.name}' ({src.node.type}).",
        "# Its code cannot run here: rewrite it in Python below. Read the dict `inputs`, assign `output`.",
        "#",
        *(f"# {line}".rstrip() for line in str(source).splitlines()),
        "",
        "output = inputs",
        "",
    ]
    src.warn(
        f"its {'Python (n8n API)' if python else 'JavaScript'} code must be rewritten in Python; "
        "it is kept as a comment in config.code and the script passes its input through",
        at="pythonCode" if python else ("jsCode" if src.param("jsCode") else "functionCode"),
    )
    return Converted("script", {"code": "\n".join(lines), "inputs": src.pass_through()})
