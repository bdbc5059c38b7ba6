"""Expressions: Jinja templates in node config strings, rendered in a sandbox.

Templates see ``input``, ``steps`` (id -> ``{"output", "status"}``), ``vars``, ``execution``,
``credentials`` and, in loops, ``item`` and ``index``. Exactly one ``{{ expression }}`` renders
to its value with its type; any other template renders to a str.

Every render runs under a budget (``expression_limits``): operators, filters and string methods
that could allocate past the limits are refused before they allocate, loops count their
iterations, and loops, calls and filters watch the clock. Rendered text and values leaving the
sandbox are bounded too.
"""

from __future__ import annotations

import base64
import functools
import json
from collections.abc import Iterator, KeysView, Mapping, ValuesView
from dataclasses import dataclass
from typing import Any

from jinja2 import ChainableUndefined, StrictUndefined, TemplateSyntaxError, nodes
from jinja2 import meta as jinja_meta
from jinja2.environment import Template, TemplateExpression
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.parser import Parser
from jinja2.runtime import Context, LoopContext, Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from executions.engine import expression_limits as limits

MAX_SIZE = limits.MAX_SIZE
MAX_VALUE_SIZE = limits.MAX_VALUE_SIZE
MAX_INT_BITS = limits.MAX_INT_BITS

_SEQUENCES = (list, tuple, set, frozenset, range, KeysView, ValuesView, Iterator)


class ExpressionError(Exception):
    """An expression that does not parse or fails to render; ``path`` names the config field."""

    def __init__(self, message: str, path: str | None = None) -> None:
        super().__init__(message, path)
        self.message = message
        self.path = path

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class _Undefined(ChainableUndefined, StrictUndefined):
    """Fails when used, like StrictUndefined, but lets ``steps.x.output.y | default(...)`` reach the filter."""


class _Environment(ImmutableSandboxedEnvironment):
    """The immutable sandbox (context data is shared by every node) with bounded operators and methods."""

    intercepted_binops = frozenset({"+", "*", "**", "%"})

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Apply ``operator``; raises SecurityError when the result would be too big to allocate."""
        limits.check_binop(operator, left, right)
        return super().call_binop(context, operator, left, right)

    def call(__self, __context: Context, __obj: Any, *args: Any, **kwargs: Any) -> Any:
        """Call ``__obj`` from a template: counted against the budget, string methods checked first."""
        target = getattr(__obj, "__wrapped__", __obj)  # the sandbox wraps str.format
        owner = getattr(target, "__self__", None)
        if isinstance(owner, str):
            limits.check_str_method(owner, getattr(target, "__name__", ""), args, kwargs)
        else:
            limits.step()
        return super().call(__context, __obj, *args, **kwargs)

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        if isinstance(obj, str) and attr in limits.REFUSED_STR_METHODS:
            return False
        return super().is_safe_attribute(obj, attr, value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        # Context data is JSON: in `input.items` a key must win over the dict method Jinja picks first.
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def unsafe_undefined(self, obj: Any, attribute: str) -> Undefined:
        return self.undefined(
            f"access to attribute {attribute!r} of {type(obj).__name__!r} object is not allowed",
            name=attribute,
            obj=obj,
            exc=SecurityError,
        )


def _materialize(value: Any, limit: int) -> Any:
    """Copy a rendered value into plain data that never aliases the context (iterables and lazy
    ``map`` results become lists). Raises UndefinedError for an undefined part, SecurityError past
    ``limit`` items or characters: shared references cost little inside the sandbox, not outside.
    """
    budget = limit

    def spend(amount: int) -> None:
        nonlocal budget
        budget -= amount
        if budget < 0:
            raise SecurityError(f"a value of more than {limit:,} items or characters is not allowed")

    def copy(item: Any) -> Any:
        if isinstance(item, Undefined):
            str(item)  # StrictUndefined raises UndefinedError saying what is missing
        if isinstance(item, str):
            spend(len(item))
            return str.__str__(item)
        if isinstance(item, Mapping):
            spend(len(item))
            return {key: copy(element) for key, element in item.items()}
        # Iterating a loop variable would advance the loop it belongs to.
        if isinstance(item, _SEQUENCES) and not isinstance(item, LoopContext):
            result = []
            for element in item:
                spend(1)
                result.append(copy(element))
            return result
        return item

    return copy(value)


def _b64encode(value: str) -> str:
    return base64.b64encode(value.encode()).decode("ascii")


def _b64decode(value: str) -> str:
    # Line breaks are common in encoded data; any other stray character is an error, not skipped.
    return base64.b64decode("".join(value.split()), validate=True).decode()


_env = _Environment(
    undefined=_Undefined,
    autoescape=False,
    keep_trailing_newline=True,  # config text is kept as written, e.g. an e-mail body
    finalize=lambda value: _materialize(value, MAX_SIZE),
)
# lipsum(n) builds n paragraphs for any n (a cheap way to allocate gigabytes) and has no use here.
del _env.globals["lipsum"]
_env.filters = limits.bounded_filters({"fromjson": json.loads, "b64encode": _b64encode, "b64decode": _b64decode})


@functools.lru_cache(maxsize=1024)
def _compile(source: str, bare: bool) -> Template | TemplateExpression:  # bare is positional: one cache key
    """Compile ``source`` once: a TemplateExpression for a whole-string ``{{ expr }}`` or a bare
    expression (it returns the native value), else a Template. Raises what Jinja raises."""
    if bare:
        parser = Parser(_env, source, state="variable")
        expr = parser.parse_expression()
        if not parser.stream.eos:
            raise TemplateSyntaxError("chunk after expression", parser.stream.current.lineno, None, None)
        return _expression_template(expr)
    tree = _env.parse(source)
    body = tree.body
    if len(body) == 1 and isinstance(body[0], nodes.Output) and len(body[0].nodes) == 1:
        expr = body[0].nodes[0]
        if not isinstance(expr, nodes.TemplateData):
            return _expression_template(expr)
    return _env.from_string(limits.rewrite(tree))


def _expression_template(expr: nodes.Expr) -> TemplateExpression:
    """What ``compile_expression`` builds, from a parsed node, with ``~`` and loops under the budget."""
    assign = nodes.Template([nodes.Assign(nodes.Name("result", "store"), expr, lineno=1)], lineno=1)
    assign.set_environment(_env)
    return TemplateExpression(_env.from_string(limits.rewrite(assign)), undefined_to_none=False)


def _compile_message(exc: Exception) -> str:
    if isinstance(exc, TemplateSyntaxError):
        return f"{exc.message} (line {exc.lineno})"
    return f"the template is too deeply nested to compile ({type(exc).__name__})"


def _render_message(exc: Exception) -> str:
    if isinstance(exc, UndefinedError | SecurityError):
        return str(exc)
    if isinstance(exc, RecursionError):
        return "the expression recursed too deeply"
    if isinstance(exc, MemoryError):
        return "the expression needed too much memory"
    return f"{type(exc).__name__}: {exc}"


def _run(source: str, context: Mapping[str, Any], path: str, *, bare: bool = False) -> Any:
    """Compile and run ``source``; raises ExpressionError for any failure."""
    try:
        compiled = _compile(source, bare)
    except Exception as exc:  # a template that cannot compile is the author's error, whatever the cause
        raise ExpressionError(_compile_message(exc), path) from exc
    try:
        with limits.render_budget():
            return _render_compiled(compiled, context)
    except Exception as exc:  # the sandbox warns any exception may come out of rendering
        raise ExpressionError(_render_message(exc), path) from exc


def _render_compiled(compiled: Template | TemplateExpression, context: Mapping[str, Any]) -> Any:
    if isinstance(compiled, TemplateExpression):
        return _materialize(compiled(context), MAX_VALUE_SIZE)
    chunks, length = [], 0
    # Stop as output grows rather than after joining it.
    for chunk in compiled.generate(context):
        length += len(chunk)
        if length > MAX_SIZE:
            raise SecurityError(f"rendered text longer than {MAX_SIZE:,} characters is not allowed")
        chunks.append(chunk)
    return "".join(chunks)


def _key_path(path: str, key: Any) -> str:
    return f"{path}.{key}" if path else str(key)


def _strings(value: Any, path: str, skip: frozenset[str] = frozenset()) -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            if key not in skip:
                yield from _strings(item, _key_path(path, key))
    elif isinstance(value, list | tuple):
        for index, item in enumerate(value):
            yield from _strings(item, f"{path}[{index}]")


def is_template(text: str) -> bool:
    """Whether ``text`` contains Jinja markup (``{{``, ``{%`` or ``{#``)."""
    return "{{" in text or "{%" in text or "{#" in text


def syntax_error(text: str) -> str | None:
    """None if ``text`` compiles, else a message with the line number ("unexpected '}' (line 1)")."""
    try:
        _compile(text, False)
    except Exception as exc:
        return _compile_message(exc)
    return None


def find_syntax_errors(value: Any, path: str, *, skip: frozenset[str] = frozenset()) -> list[tuple[str, str]]:
    """``(path, message)`` for every template string in ``value`` that does not compile.

    Paths join dict keys with "." and list indexes as "[i]" ("config.cases[1].equals");
    top-level keys in ``skip`` are not inspected. Raises nothing.
    """
    errors = []
    for field_path, text in _strings(value, path, skip):
        if is_template(text) and (message := syntax_error(text)):
            errors.append((field_path, message))
    return errors


def render(value: Any, context: Mapping[str, Any], *, path: str = "config", skip: frozenset[str] = frozenset()) -> Any:
    """A copy of ``value`` with every template string rendered; dict keys and non-strings are
    kept, top-level keys in ``skip`` are copied as they are.

    Raises ExpressionError, with the path of the failing field, for a syntax error, an undefined
    name or attribute, anything the sandbox refuses, and any other exception while rendering.
    """
    if isinstance(value, str):
        return _run(value, context, path) if is_template(value) else value
    if isinstance(value, Mapping):
        return {
            key: item if key in skip else render(item, context, path=_key_path(path, key))
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [render(item, context, path=f"{path}[{index}]") for index, item in enumerate(value)]
    return value


def evaluate(expression: str, context: Mapping[str, Any], *, path: str = "config.expression") -> Any:
    """The native value of a condition: ``"{{ x > 1 }}"`` or the bare ``"x > 1"``.

    Raises ExpressionError as ``render`` does, and for a template that is not one whole
    ``{{ expression }}`` (its text, such as "False", would otherwise be tested as a string).
    """
    expression = expression.strip()
    bare = not is_template(expression)
    if (
        not bare
        and syntax_error(expression) is None
        and not isinstance(_compile(expression, False), TemplateExpression)
    ):
        raise ExpressionError("a condition must be a single {{ expression }} or a bare expression", path)
    return _run(expression, context, path, bare=bare)


@functools.lru_cache(maxsize=1024)
def _steps_in(source: str) -> frozenset[str]:
    try:
        tree = _env.parse(source)
    except Exception:
        return frozenset()
    # steps.get('a') and steps.items() call methods of the mapping, they name no node.
    called = {id(call.node) for call in tree.find_all(nodes.Call)}
    found = set()
    for node in tree.find_all((nodes.Getattr, nodes.Getitem)):
        if not isinstance(node, (nodes.Getattr, nodes.Getitem)) or id(node) in called:
            continue
        if not (isinstance(node.node, nodes.Name) and node.node.name == "steps"):
            continue
        if isinstance(node, nodes.Getattr):
            found.add(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
            found.add(node.arg.value)
    return frozenset(found)


def referenced_steps(value: Any) -> set[str]:
    """Node ids that templates in ``value`` name as ``steps.<id>`` or ``steps['<id>']``.

    Bare expressions (a condition's ``"x > 1"``) are not templates: wrap them in ``{{ }}`` first.
    Unparsable strings are ignored. Raises nothing.
    """
    found: set[str] = set()
    for _, text in _strings(value, ""):
        if is_template(text):
            found |= _steps_in(text)
    return found


# The names a template may start from (build_context's, for_each's per-item names, Jinja's loop).
ROOT_NAMES = frozenset({"input", "steps", "vars", "execution", "credentials", "item", "index", "loop"})


@dataclass(frozen=True)
class Reference:
    """What one template string at ``path`` reads: the steps it names and the roots it starts from."""

    path: str
    steps: frozenset[str]
    unknown_roots: frozenset[str]


def references(value: Any, path: str = "", *, skip: frozenset[str] = frozenset()) -> list[Reference]:
    """The templates in ``value`` and what each reads (unparsable strings are left to the syntax check)."""
    found = []
    for where, text in _strings(value, path, skip):
        if not is_template(text):
            continue
        unknown = unknown_roots(text)
        if unknown is None:
            continue
        steps = _steps_in(text)
        if steps or unknown:
            found.append(Reference(where, steps, unknown))
    return found


def unknown_roots(source: str) -> frozenset[str] | None:
    """The names a template starts from that no run provides (None when it does not parse)."""
    roots = _roots_in(source)
    return None if roots is None else frozenset(roots - ROOT_NAMES - set(_env.globals))


@functools.lru_cache(maxsize=1024)
def _roots_in(source: str) -> frozenset[str] | None:
    try:
        return frozenset(jinja_meta.find_undeclared_variables(_env.parse(source)))
    except Exception:
        return None


def build_context(
    *,
    input: Any,
    steps: Mapping[str, Any],
    variables: Mapping[str, Any] | None = None,
    execution: Mapping[str, Any] | None = None,
    credentials: Any = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The names a template sees; ``extra`` (``item``, ``index``) is added last. Raises nothing."""
    context = {
        "input": input,
        "steps": steps,
        "vars": dict(variables or {}),
        "execution": dict(execution or {}),
        "credentials": credentials,
    }
    context.update(extra or {})
    return context
