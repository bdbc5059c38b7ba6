"""n8n expressions → Flowbuilder Jinja templates.

An n8n parameter string is literal text unless it starts with ``=``; then each
``{{ … }}`` in it is a JavaScript expression. We translate the common subset:
item references (``$json.x``, ``$input.item.json.x``, ``$('Node').item.json.x``,
``$node["Node"].json.x``, ``$items("Node")[0].json.x``) with property and index
access, literals, comparison / arithmetic / boolean operators, and a few string
methods. Anything else (``$now``, arrow functions, ternaries, ``Math.*``…) is
kept verbatim inside ``{% raw %}`` so the definition still parses, and reported.

Where an item reference points is decided by the importer through a
:class:`Scope` (``$json`` is the previous node's output, which lives at
``input`` after a trigger and at ``steps.<id>.output…`` otherwise).
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from executions.engine.expressions import syntax_error

_STRING = r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\""
_STRING_LITERAL = re.compile(_STRING)
_SEGMENT = re.compile(r"\{\{(.*?)\}\}", re.DOTALL)
_JINJA_MARKUP = re.compile(r"\{[{%#]")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")

_ITEM = r"(?:item|first\(\)|last\(\))"
# Reference heads: (pattern, whether it names a node). The rest of the chain is parsed after.
_HEADS: tuple[tuple[re.Pattern[str], bool], ...] = (
    (re.compile(r"\$json\b"), False),
    (re.compile(rf"\$input\.{_ITEM}\.json\b"), False),
    (re.compile(rf"\$\(\s*(?P<name>{_STRING})\s*\)\.{_ITEM}\.json\b"), True),
    (re.compile(rf"\$node\[\s*(?P<name>{_STRING})\s*\]\.json\b"), True),
    (re.compile(rf"\$items\(\s*(?P<name>{_STRING})\s*\)\[0\]\.json\b"), True),
)
_EXECUTION_ID = re.compile(r"\$execution\.id\b")
_ACCESSOR = re.compile(
    rf"\??\.(?P<attr>[A-Za-z_][A-Za-z0-9_]*)(?P<call>\(\))?|\[\s*(?P<index>\d+)\s*\]|\[\s*(?P<key>{_STRING})\s*\]"
)
_STRING_METHODS = {"toUpperCase": "upper", "toLowerCase": "lower", "trim": "strip"}
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATOR = re.compile(r"===|!==|==|!=|<=|>=|&&|\|\||[-+*/%<>!(),\[\]]")
_OPERATORS = {"===": "==", "!==": "!=", "&&": "and", "||": "or", "!": "not"}
_WORDS = {"true": "true", "false": "false", "null": "none", "undefined": "none"}


@dataclass(frozen=True)
class Scope:
    """Where item references point: ``current`` for ``$json`` (None: ambiguous), ``named`` for a node's name."""

    current: str | None
    named: Callable[[str], str | None]


@dataclass
class Translated:
    """A translated value and the n8n expressions in it that could not be translated."""

    value: Any
    untranslated: list[str]


def escape_literal(text: str) -> str:
    """``text`` as a template that renders to itself (Jinja markup in it is quoted)."""
    return _JINJA_MARKUP.sub(lambda match: "{{ '" + match.group() + "' }}", text)


def translate_js(code: str, scope: Scope) -> str | None:
    """The Jinja expression for the JavaScript ``code`` of one ``{{ }}``, or None if it is out of reach."""
    tokens: list[str] = []
    position = 0
    while position < len(code):
        if code[position].isspace():
            position += 1
            continue
        token, position = _next_token(code, position, scope)
        if token is None:
            return None
        tokens.append(token)
    if not tokens:
        return None
    jinja = _join(tokens)
    return jinja if syntax_error("{{ " + jinja + " }}") is None else None


def _next_token(code: str, position: int, scope: Scope) -> tuple[str | None, int]:
    if code[position] == "$":
        return _reference(code, position, scope)
    if match := _STRING_LITERAL.match(code, position):
        return match.group(), match.end()
    if match := _NUMBER.match(code, position):
        return match.group(), match.end()
    if match := _IDENTIFIER.match(code, position):
        return _WORDS.get(match.group()), match.end()
    if match := _OPERATOR.match(code, position):
        return _OPERATORS.get(match.group(), match.group()), match.end()
    return None, position


def _reference(code: str, position: int, scope: Scope) -> tuple[str | None, int]:
    if match := _EXECUTION_ID.match(code, position):
        return "execution.id", match.end()
    for pattern, names_node in _HEADS:
        match = pattern.match(code, position)
        if match is None:
            continue
        base = scope.named(ast.literal_eval(match.group("name"))) if names_node else scope.current
        if base is None:
            return None, position
        return _accessors(code, match.end(), base)
    return None, position


def _accessors(code: str, position: int, base: str) -> tuple[str | None, int]:
    """Append ``.x``, ``[0]``, ``["x"]`` and the mapped string methods that follow a reference."""
    text = base
    while match := _ACCESSOR.match(code, position):
        position = match.end()
        attr = match.group("attr")
        if attr is None:
            key = match.group("index") or json.dumps(ast.literal_eval(match.group("key")), ensure_ascii=False)
            text += f"[{key}]"
        elif match.group("call"):
            if attr not in _STRING_METHODS:
                return None, position
            text += f".{_STRING_METHODS[attr]}()"
        elif attr == "length":
            return f"({text} | length)", position
        else:
            text += f".{attr}"
    if position < len(code) and code[position] in "(.?":
        return None, position  # a call or an accessor we do not translate
    return text, position


def _join(tokens: list[str]) -> str:
    text = ""
    for token in tokens:
        if text and not text.endswith(("(", "[")) and token not in (")", "]", ","):
            text += " "
        text += token
    return text


def map_strings(value: Any, function: Callable[[str], Any]) -> Any:
    """A copy of the JSON ``value`` with ``function`` applied to every string in it (not to keys)."""
    if isinstance(value, str):
        return function(value)
    if isinstance(value, dict):
        return {key: map_strings(item, function) for key, item in value.items()}
    if isinstance(value, list):
        return [map_strings(item, function) for item in value]
    return value


def translate_value(value: Any, scope: Scope) -> Translated:
    """Translate every n8n string in ``value`` (any JSON) into a Flowbuilder template."""
    untranslated: list[str] = []

    def translate(text: str) -> Any:
        result = translate_text(text, scope)
        untranslated.extend(result.untranslated)
        return result.value

    return Translated(map_strings(value, translate), untranslated)


def translate_text(text: str, scope: Scope) -> Translated:
    """One n8n string parameter as a template; ``={{ $json.n }}`` stays a whole-string expression (typed)."""
    if not text.startswith("="):
        return Translated(escape_literal(text), [])
    body, parts, untranslated = text[1:], [], []
    last = 0
    for match in _SEGMENT.finditer(body):
        parts.append(escape_literal(body[last : match.start()]))
        jinja = translate_js(match.group(1).strip(), scope)
        if jinja is None:
            untranslated.append(match.group())
            parts.append("{% raw %}" + match.group() + "{% endraw %}")
        else:
            parts.append("{{ " + jinja + " }}")
        last = match.end()
    parts.append(escape_literal(body[last:]))
    return Translated("".join(parts), untranslated)


def operand(value: Any, scope: Scope) -> str | None:
    """A condition operand as a Jinja expression (not a template), or None if it cannot be translated."""
    if not isinstance(value, str):
        return literal(value)
    if not value.startswith("="):
        return literal(value)
    body = value[1:]
    pieces: list[str] = []
    last = 0
    for match in _SEGMENT.finditer(body):
        if body[last : match.start()]:
            pieces.append(literal(body[last : match.start()]))
        jinja = translate_js(match.group(1).strip(), scope)
        if jinja is None:
            return None
        pieces.append(jinja)
        last = match.end()
    if body[last:] or not pieces:
        pieces.append(literal(body[last:]))
    if len(pieces) == 1:
        return pieces[0]
    return "(" + " ~ ".join(wrap(piece) for piece in pieces) + ")"


def literal(value: Any) -> str:
    """A JSON value as a Jinja literal."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{literal(str(k))}: {literal(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(literal(item) for item in value) + "]"
    return json.dumps(value, ensure_ascii=False)


def wrap(expression: str) -> str:
    """Parenthesise ``expression`` unless it is a single reference or literal."""
    simple = re.fullmatch(rf"[\w.]+(?:\[(?:\d+|{_STRING})\][\w.]*)*|{_STRING}|\(.*\)", expression)
    return expression if simple else f"({expression})"


def translate_json_text(text: str, scope: Scope) -> Translated | None:
    """An n8n JSON parameter (``jsonBody``, ``responseBody``…) as a JSON value with templates in its strings.

    ``={"id": "{{ $json.id }}", "n": {{ $json.n }}}`` becomes
    ``{"id": "{{ input.id }}", "n": "{{ input.n }}"}``; a whole ``={{ … }}`` becomes one expression.
    None when the text is not JSON (once its expressions are set aside).
    """
    if not text.startswith("="):
        try:
            return Translated(map_strings(json.loads(text), escape_literal), [])
        except ValueError:
            return None
    body = text[1:].strip()
    if _SEGMENT.fullmatch(body):
        return translate_text("=" + body, scope)
    expressions: dict[str, str] = {}
    try:
        parsed = json.loads(_set_expressions_aside(body, expressions))
    except ValueError:
        return None
    untranslated: list[str] = []

    def restore(item: str) -> str:
        restored = re.sub(r"@@n8n\d+@@", lambda m: expressions[m.group()], item)
        if restored == item:
            return escape_literal(item)
        result = translate_text("=" + restored, scope)
        untranslated.extend(result.untranslated)
        return result.value

    return Translated(map_strings(parsed, restore), untranslated)


def _set_expressions_aside(body: str, expressions: dict[str, str]) -> str:
    """Replace each ``{{ … }}`` by a token (quoted when it stands for a whole JSON value)."""
    out: list[str] = []
    position, in_string = 0, False
    while position < len(body):
        char = body[position]
        if body.startswith("{{", position) and (end := body.find("}}", position + 2)) != -1:
            token = f"@@n8n{len(expressions)}@@"
            expressions[token] = body[position : end + 2]
            out.append(token if in_string else f'"{token}"')
            position = end + 2
            continue
        if char == "\\" and in_string:
            out.append(body[position : position + 2])
            position += 2
            continue
        if char == '"':
            in_string = not in_string
        out.append(char)
        position += 1
    return "".join(out)
