"""Putting parameter values into a template's definition, safely.

Placeholders are ``{{ name }}`` for a declared parameter and ``{{ companions.<key> }}`` for the
id of a companion workflow; every other expression (``{{ input.x }}``, ``{{ steps.a.output }}``)
is left for the engine. Substitution walks the definition's JSON rather than its text:

- a string that is exactly one placeholder becomes the value itself, with its type
  (``"{{ timeout }}"`` → ``30``);
- inside a longer string the value is inserted as text. Where the engine renders that string
  (node config), a value that could read as Jinja markup is wrapped in ``{% raw %}…{% endraw %}``
  so that it renders as written: a value is data, never an expression. A placeholder counts only
  where it stands on its own in the template's text, not inside another expression, a string
  literal or a comment (checked with Jinja's parser);
- where nothing is rendered (node names, ``variables``, ``settings``, ``retry``…) values are
  inserted as they are;
- fields that are not templates (a script's ``code``) and condition expressions (evaluated as
  code) take no placeholders: a template passes values to them through ``inputs`` or
  ``variables`` (``{"limit": "{{ limit }}"}``, then ``vars.limit``).

A direct member of a node, of its ``config`` or of ``settings`` that is a placeholder of a
parameter without a value (optional, no default) is left out, so an optional setting (a
credential, a cc address) can stay unset.
"""

from __future__ import annotations

import copy
import enum
import json
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from jinja2 import Environment, TemplateSyntaxError, meta, nodes

from executions.engine import registry
from executions.engine.expressions import is_template

PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\s*\}\}")
COMPANIONS = "companions"
# What templates see at run time (executions/engine/expressions.py) and Jinja's own globals.
RUNTIME_NAMES = frozenset({"input", "steps", "vars", "execution", "credentials", "item", "index", "loop"})
NODE_KEYS_KEPT = frozenset({"id", "type"})

# Parses, never renders: the syntax is the engine's (default delimiters, no line statements).
_parser = Environment(keep_trailing_newline=True)  # noqa: S701  (never renders, so never escapes)
_GLOBALS = frozenset(_parser.globals)
_DROP = object()


class Mode(enum.Enum):
    JINJA = "jinja"  # rendered by the engine: values are escaped
    PLAIN = "plain"  # never rendered: values are inserted as they are
    RAW = "raw"  # not a template (script code): no placeholders
    EXPRESSION = "expression"  # evaluated as code: no placeholders


class PlaceholderError(Exception):
    """A placeholder that cannot be substituted safely; ``path`` is the JSON path of the string."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


# --- text -------------------------------------------------------------------------------


def whole_placeholder(text: str) -> str | None:
    """The name in ``text`` if it is exactly one placeholder (around whitespace aside), else None."""
    match = PLACEHOLDER.fullmatch(text.strip())
    return match.group(1) if match else None


def to_text(value: Any) -> str:
    """How a value reads inside a longer string: strings as they are, other values as JSON."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False)


def escape_text(text: str) -> str:
    """``text`` as template source that renders to exactly ``text``.

    Text without ``{`` cannot start any markup, here or joined to its neighbours (what comes
    before a placeholder never ends in ``{``: Jinja would have started the tag there). Other
    text goes in a raw block; it may not contain ``{%`` (``{% endraw %}`` would end the block),
    so each ``{%`` is split across two blocks.
    """
    if "{" not in text:
        return text
    return "{% raw %}" + text.replace("{%", "{{% endraw %}{% raw %}%") + "{% endraw %}"


def escape_value(value: Any) -> Any:
    """A copy of a JSON value whose strings render to themselves (dict keys are never rendered)."""
    if isinstance(value, str):
        return escape_text(value)
    if isinstance(value, dict):
        return {key: escape_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [escape_value(item) for item in value]
    return value


@dataclass
class Scan:
    """What a template string holds: its real placeholders, a problem, names it leaves undefined."""

    spans: list[tuple[int, int, str]] = field(default_factory=list)
    problem: str | None = None
    unknown: set[str] = field(default_factory=set)


def _markers(text: str, count: int) -> list[str]:
    salt = 0
    while True:
        markers = [f"__fb_placeholder_{salt}_{index}__" for index in range(count)]
        if not any(marker in text for marker in markers):
            return markers
        salt += 1


def scan(text: str, names: frozenset[str]) -> Scan:
    """Find the placeholders of ``names`` in a string the engine renders.

    Each ``{{ name }}`` must be a tag of its own in the template's text: it is replaced by a
    marker, the result is parsed, and every marker must come out as template text. A declared
    name used any other way (``{{ limit + 1 }}``, ``{% set limit = 1 %}``) is a problem too, as
    is text that does not parse around a placeholder. ``unknown`` holds the names the string
    reads that neither ``names``, the run-time context nor Jinja define. Raises nothing.
    """
    if not is_template(text):
        return Scan()
    spans = [(m.start(), m.end(), m.group(1)) for m in PLACEHOLDER.finditer(text) if m.group(1) in names]
    for start, _, name in spans:
        if start and text[start - 1] == "{":
            return Scan(spans, f"'{{{{ {name} }}}}' directly follows '{{'; put a space between them")
    markers = _markers(text, len(spans))
    marked, last = [], 0
    for (start, end, _), marker in zip(spans, markers, strict=True):
        marked.append(text[last:start])
        marked.append(marker)
        last = end
    marked.append(text[last:])
    try:
        tree = _parser.parse("".join(marked))
    except TemplateSyntaxError as exc:
        if spans:
            return Scan(spans, f"the text around the placeholders does not parse: {exc.message} (line {exc.lineno})")
        return Scan()  # the workflow validation reports it with the engine's message
    data = [node.data for node in tree.find_all(nodes.TemplateData)]
    for (_, _, name), marker in zip(spans, markers, strict=True):
        if not any(marker in chunk for chunk in data):
            return Scan(
                spans,
                f"'{{{{ {name} }}}}' is inside another expression, a string or a comment; a placeholder must "
                "stand on its own in the text",
            )
    parameters = {name for name in names if "." not in name}
    misused = sorted({node.name for node in tree.find_all(nodes.Name)} & (parameters | {COMPANIONS}))
    if misused:
        name = misused[0]
        if name == COMPANIONS:
            return Scan(spans, "companion workflows are referred to exactly as '{{ companions.<key> }}'")
        return Scan(
            spans,
            f"the parameter '{name}' is used inside an expression; only a whole '{{{{ {name} }}}}' is replaced. "
            f'Put it in the definition\'s variables ({{"{name}": "{{{{ {name} }}}}"}}) and use vars.{name}',
        )
    unknown = set(meta.find_undeclared_variables(tree)) - RUNTIME_NAMES - _GLOBALS - {COMPANIONS}
    return Scan(spans, None, unknown)


def _fill(text: str, spans: list[tuple[int, int, str]], render: Callable[[str], str]) -> str:
    out, last = [], 0
    for start, end, name in spans:
        out.append(text[last:start])
        out.append(render(name))
        last = end
    out.append(text[last:])
    return "".join(out)


# --- walking a definition -------------------------------------------------------------------

# visit(value, path, mode, droppable) -> the new value, or _DROP to leave the member out
Visitor = Callable[[Any, str, Mode, bool], Any]


def _key_path(path: str, key: Any) -> str:
    return f"{path}.{key}"


def _config_modes(node: Mapping[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    node_type = registry.get(node["type"]) if isinstance(node.get("type"), str) else None
    if node_type is None:
        return frozenset(), frozenset()
    return node_type.raw_fields, node_type.expression_fields


def _members(value: Mapping[str, Any], path: str, mode_of: Callable[[str], Mode], visit: Visitor) -> dict[str, Any]:
    result = {}
    for key, item in value.items():
        new = visit(item, _key_path(path, key), mode_of(key), True)
        if new is not _DROP:
            result[key] = new
    return result


def walk(definition: Any, base: str, visit: Visitor) -> Any:
    """A copy of a canonical definition with ``visit`` applied to each value a placeholder may
    stand in, with the mode of its place; ids, types and edges are copied as they are."""
    if not isinstance(definition, Mapping):
        return copy.deepcopy(definition)
    result = {key: copy.deepcopy(value) for key, value in definition.items()}
    raw_nodes = definition.get("nodes")
    if isinstance(raw_nodes, list):
        new_nodes = []
        for index, node in enumerate(raw_nodes):
            if not isinstance(node, Mapping):
                new_nodes.append(copy.deepcopy(node))
                continue
            raw, expression = _config_modes(node)
            path = f"{base}.nodes[{index}]"
            new_node: dict[str, Any] = {}
            for key, value in node.items():
                if key in NODE_KEYS_KEPT:
                    new_node[key] = copy.deepcopy(value)
                elif key == "config" and isinstance(value, Mapping):
                    new_node[key] = _members(
                        value,
                        f"{path}.config",
                        lambda k, raw=raw, expression=expression: (
                            Mode.RAW if k in raw else Mode.EXPRESSION if k in expression else Mode.JINJA
                        ),
                        visit,
                    )
                else:
                    new = visit(value, _key_path(path, key), Mode.PLAIN, True)
                    if new is not _DROP:
                        new_node[key] = new
            new_nodes.append(new_node)
        result["nodes"] = new_nodes
    if isinstance(definition.get("settings"), Mapping):
        result["settings"] = _members(definition["settings"], f"{base}.settings", lambda _: Mode.PLAIN, visit)
    if "variables" in definition:
        result["variables"] = visit(definition["variables"], f"{base}.variables", Mode.PLAIN, False)
    return result


def _each_string(value: Any, path: str, on_string: Callable[[str, str], Any]) -> Any:
    if isinstance(value, str):
        return on_string(value, path)
    if isinstance(value, Mapping):
        return {key: _each_string(item, _key_path(path, key), on_string) for key, item in value.items()}
    if isinstance(value, list):
        return [_each_string(item, f"{path}[{index}]", on_string) for index, item in enumerate(value)]
    return copy.deepcopy(value)


# --- substitution ---------------------------------------------------------------------------


@dataclass
class Substitution:
    """The definition with values in, and which names went where (JSON path → names)."""

    definition: Any
    origins: dict[str, set[str]]

    def names_at(self, error_path: str) -> set[str]:
        """Names substituted at ``error_path``, inside it, or (for a node's config) under it."""
        found: set[str] = set()
        for path, names in self.origins.items():
            if (
                error_path == path
                or error_path.startswith((f"{path}.", f"{path}["))
                or (error_path.endswith(".config") and path.startswith(f"{error_path}."))
            ):
                found |= names
        return found


def substitute(definition: Any, values: Mapping[str, Any], *, base: str = "definition") -> Substitution:
    """Put ``values`` (name → value; ``companions.<key>`` → workflow id) into ``definition``.

    Raises PlaceholderError where a placeholder cannot be replaced safely (see :func:`scan`).
    """
    names = frozenset(values)
    origins: dict[str, set[str]] = {}

    def record(path: str, name: str) -> None:
        origins.setdefault(path, set()).add(name)

    def on_string(mode: Mode) -> Callable[[str, str], Any]:
        def replace(text: str, path: str) -> Any:
            whole = whole_placeholder(text)
            if whole in names:
                record(path, whole)
                value = values[whole]
                return escape_value(value) if mode is Mode.JINJA else copy.deepcopy(value)
            if mode is Mode.PLAIN:
                spans = [(m.start(), m.end(), m.group(1)) for m in PLACEHOLDER.finditer(text) if m.group(1) in names]
                for _, _, name in spans:
                    record(path, name)
                return _fill(text, spans, lambda name: to_text(values[name]))
            found = scan(text, names)
            if found.problem:
                raise PlaceholderError(path, found.problem)
            for _, _, name in found.spans:
                record(path, name)
            return _fill(text, found.spans, lambda name: escape_text(to_text(values[name])))

        return replace

    def visit(value: Any, path: str, mode: Mode, droppable: bool) -> Any:
        if mode in (Mode.RAW, Mode.EXPRESSION):
            return copy.deepcopy(value)
        if droppable and isinstance(value, str):
            whole = whole_placeholder(value)
            if whole in names and values[whole] is None:
                record(path, whole)
                return _DROP
        return _each_string(value, path, on_string(mode))

    return Substitution(walk(definition, base, visit), origins)


def placeholder_problems(definition: Any, names: Iterable[str], *, base: str = "definition") -> list[dict[str, Any]]:
    """Where ``definition`` uses placeholders in a way :func:`substitute` would refuse, uses them
    where they would never be replaced, or reads a name nothing defines. ``names`` are the
    parameters and ``companions.<key>`` references available. Raises nothing."""
    names = frozenset(names)
    parameters = sorted(name for name in names if "." not in name)
    problems: list[dict[str, Any]] = []

    def mentioned(text: str) -> list[str]:
        return sorted({m.group(1) for m in PLACEHOLDER.finditer(text) if m.group(1) in names})

    def unknown(found: Scan, path: str) -> None:
        declared = f"the parameters are: {', '.join(parameters)}" if parameters else "it has no parameters"
        for name in sorted(found.unknown):
            problems.append(
                {
                    "field": path,
                    "message": f"'{name}' is neither a parameter of the template ({declared}) nor a run-time "
                    "name (input, steps, vars, execution, item, index)",
                }
            )

    def on_string(mode: Mode) -> Callable[[str, str], Any]:
        def check(text: str, path: str) -> str:
            if mode is Mode.RAW and (used := mentioned(text)):
                problems.append(
                    {
                        "field": path,
                        "message": f"'{{{{ {used[0]} }}}}' would not be replaced here: this field is not a template. "
                        "Pass the value in through another field (e.g. a script's 'inputs')",
                    }
                )
            elif mode is Mode.EXPRESSION:
                found = scan(text if is_template(text) else "{{ " + text + " }}", names)
                if mentioned(text) or found.problem:
                    problems.append(
                        {
                            "field": path,
                            "message": "A condition's expression takes no parameters (it is evaluated as code). Put "
                            'the value in the definition\'s variables ({"limit": "{{ limit }}"}) and compare with '
                            "vars.limit",
                        }
                    )
                unknown(found, path)
            elif mode is Mode.JINJA and whole_placeholder(text) not in names:
                found = scan(text, names)
                if found.problem:
                    problems.append({"field": path, "message": found.problem})
                unknown(found, path)
            return text

        return check

    def visit(value: Any, path: str, mode: Mode, droppable: bool) -> Any:
        return _each_string(value, path, on_string(mode))

    walk(definition, base, visit)
    return problems


# --- literals to placeholders (save a workflow as a template) ---------------------------------


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, int | float) and isinstance(b, int | float):
        return a == b
    return type(a) is type(b) and a == b


def replace_literals(
    definition: Any, replacements: list[tuple[Any, str]], *, base: str = "definition"
) -> tuple[Any, list[int]]:
    """Turn literal values of a workflow's definition into placeholders.

    ``replacements`` are ``(literal, parameter name)``: a value equal to the literal becomes
    ``"{{ name }}"``; a string literal is also replaced where it occurs inside longer strings,
    in their text only (not inside expressions), longest literals first. Script code and
    condition expressions are left alone. Answers the new definition and how many places each
    replacement changed, in the order given.
    """
    counts = [0] * len(replacements)
    order = sorted(
        range(len(replacements)),
        key=lambda i: -len(replacements[i][0]) if isinstance(replacements[i][0], str) else 0,
    )

    def replace_in_text(text: str, literal: str, name: str, mode: Mode) -> tuple[str, int]:
        placeholder = "{{ " + name + " }}"
        taken = [(m.start(), m.end()) for m in PLACEHOLDER.finditer(text)]
        starts, position = [], text.find(literal)
        while position != -1:
            end = position + len(literal)
            if not any(position < t_end and end > t_start for t_start, t_end in taken):
                starts.append(position)
                position = text.find(literal, end)
            else:
                position = text.find(literal, position + 1)
        changed = 0
        for start in reversed(starts):  # right to left keeps the earlier offsets valid
            candidate = text[:start] + placeholder + text[start + len(literal) :]
            if mode is Mode.JINJA and is_template(text):
                before = len(scan(text, frozenset({name})).spans)
                after = scan(candidate, frozenset({name}))
                if after.problem or len(after.spans) != before + 1:
                    continue
            text = candidate
            changed += 1
        return text, changed

    def visit(value: Any, path: str, mode: Mode, droppable: bool) -> Any:
        if mode in (Mode.RAW, Mode.EXPRESSION):
            return copy.deepcopy(value)

        def convert(item: Any) -> Any:
            for index in order:
                literal, name = replacements[index]
                if _same(item, literal):
                    counts[index] += 1
                    return "{{ " + name + " }}"
            if isinstance(item, str):
                for index in order:
                    literal, name = replacements[index]
                    if isinstance(literal, str) and literal and whole_placeholder(item) is None:
                        item, changed = replace_in_text(item, literal, name, mode)
                        counts[index] += changed
                return item
            if isinstance(item, Mapping):
                return {key: convert(element) for key, element in item.items()}
            if isinstance(item, list):
                return [convert(element) for element in item]
            return item

        return convert(value)

    return walk(definition, base, visit), counts
