"""What one expression may cost: characters, items, loop iterations and time.

Every operator, filter and method that can allocate more than its operands is checked *before* it
allocates (``~``, ``+``, ``*``, ``%``, ``center``, ``format``, ``indent``, ``replace``, ``join``,
``wordwrap``, ``batch``, ``slice``, ``str.format``, ``str.center``…), and no filter, operator or
string method receives a value whose text would pass ``MAX_VALUE_SIZE`` (``[big] * 1000000`` holds
a million references to one string: cheap, until something prints it). Loops count their
iterations across nesting, and loops, calls and filters check the time budget, so a template with
no output cannot spin either.

A budget is opened by ``time_limit`` (a node's attempt: its ``timeout_seconds``, the run's
deadline) and by every render on its own (``MAX_RENDER_SECONDS``); the tightest deadline wins.
Exceeding any limit raises ``LimitExceeded`` (a jinja2 ``SecurityError``), which fails the render.
"""

from __future__ import annotations

import contextvars
import functools
import re
import string
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, cast

from jinja2 import filters as jinja_filters
from jinja2 import nodes
from jinja2.exceptions import SecurityError
from jinja2.utils import Namespace, pass_context
from jinja2.visitor import NodeTransformer

MAX_SIZE = 1_000_000  # items or characters an operator may create; characters of rendered text
MAX_VALUE_SIZE = 10_000_000  # items or characters of a value handed to a filter (mostly data passed through)
MAX_INT_BITS = 10_000  # about 3,000 digits, under Python's int-to-str limit
MAX_ITERATIONS = 1_000_000  # loop iterations of one budget, nested loops counted together
MAX_RENDER_SECONDS = 5.0  # one render, whatever budget it runs in
_CLOCK_EVERY = 64  # look at the clock every this many steps


class LimitExceeded(SecurityError):
    """An expression went past one of its limits; the message says which."""


@dataclass
class _Budget:
    deadline: float  # time.monotonic()
    seconds: float
    reason: str
    iterations: int = 0
    steps: int = 0

    def step(self) -> None:
        self.steps += 1
        if self.steps % _CLOCK_EVERY == 0 and time.monotonic() > self.deadline:
            raise LimitExceeded(f"the expression ran longer than {self.reason} ({self.seconds:g} s) and was stopped")

    def iterate(self) -> None:
        self.iterations += 1
        if self.iterations > MAX_ITERATIONS:
            raise LimitExceeded(
                f"the expression's loops ran more than {MAX_ITERATIONS:,} times in all and were stopped"
            )
        self.step()


_budget: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar("expression_budget", default=None)


@contextmanager
def time_limit(seconds: float, reason: str = "its time limit") -> Iterator[None]:
    """Run what is inside (renders, conditions) under one budget of ``seconds`` and ``MAX_ITERATIONS``.

    Nested limits keep the tighter deadline and share the iteration count. ``reason`` names the
    limit in the message ("the node's timeout_seconds").
    """
    outer = _budget.get()
    deadline = time.monotonic() + max(seconds, 0)
    if outer is not None and outer.deadline <= deadline:
        budget = outer
    else:
        budget = _Budget(deadline, seconds, reason, iterations=outer.iterations if outer else 0)
    token = _budget.set(budget)
    try:
        yield
    finally:
        _budget.reset(token)
        if outer is not None and budget is not outer:
            outer.iterations = budget.iterations


@contextmanager
def render_budget() -> Iterator[None]:
    """The budget of one render: the surrounding one, capped at ``MAX_RENDER_SECONDS``."""
    with time_limit(MAX_RENDER_SECONDS, "the limit of one expression"):
        yield


def step() -> None:
    """Count a call or a filter against the current budget (nothing outside one: compile-time folding)."""
    budget = _budget.get()
    if budget is not None:
        budget.step()


def counted(iterable: Iterable[Any]) -> Iterator[Any]:
    """``iterable``, counting each item against the current budget's iterations."""
    budget = _budget.get()
    for item in iterable:
        if budget is not None:
            budget.iterate()
        yield item


def refuse_size(size: int, limit: int = MAX_SIZE) -> None:
    if size > limit:
        raise LimitExceeded(f"a result of {size:,} items or characters is not allowed (the limit is {limit:,})")


def text_size(value: Any, limit: int = MAX_VALUE_SIZE) -> int:
    """About how many characters ``str(value)`` has; raises LimitExceeded as soon as it passes ``limit``.

    Shared references count each time they appear, as printing them would; walking stops at the limit.
    """
    total = 0
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            total += len(item)
        elif isinstance(item, Mapping):
            total += 2 + 4 * len(item)
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list | tuple | set | frozenset):
            total += 2 + 2 * len(item)
            pending.extend(item)
        elif isinstance(item, Namespace):
            pending.append(item._Namespace__attrs)  # its repr prints them
        elif isinstance(item, int) and not isinstance(item, bool):
            total += item.bit_length() // 3 + 1
        else:
            total += 8
        if total > limit:
            raise LimitExceeded(f"a value of more than {limit:,} characters is not allowed here")
    return total


def check_binop(operator: str, left: Any, right: Any) -> None:
    """Refuse, before computing it, a result past MAX_INT_BITS or MAX_SIZE (raises LimitExceeded)."""
    step()
    if isinstance(left, int) and isinstance(right, int):
        if operator == "**" and abs(left) > 1 and right > 0:
            bits = left.bit_length() * right
        elif operator == "*":
            bits = left.bit_length() + right.bit_length()
        else:
            return
        if bits > MAX_INT_BITS:
            raise LimitExceeded(f"an integer of about {bits:,} bits is not allowed (the limit is {MAX_INT_BITS:,})")
        return
    if operator == "%" and isinstance(left, str):
        check_format(left, right if isinstance(right, tuple) else (right,), percent=True)
        return
    size = 0
    if operator == "*" and isinstance(left, str | list | tuple) and isinstance(right, int):
        size = len(left) * right
    elif operator == "*" and isinstance(left, int) and isinstance(right, str | list | tuple):
        size = left * len(right)
    elif operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple):
        size = len(left) + len(right)
    refuse_size(size)


def concat(parts: list[Any]) -> str:
    """Jinja's ``~``: the parts as text, joined, refused before joining past MAX_SIZE."""
    step()
    texts = []
    total = 0
    for part in parts:
        if not isinstance(part, str):
            text_size(part, MAX_SIZE)
        text = str(part)
        total += len(text)
        refuse_size(total)
        texts.append(text)
    return "".join(texts)


_PERCENT_SPEC = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(\*|\d+)?(?:\.(\*|\d+))?")
_FORMAT_WIDTH = re.compile(r"^(?:.?[<>=^])?[-+ ]?z?#?0?(\d*)[,_]?(?:\.(\d+))?")


def check_format(template: str, args: Iterable[Any], *, percent: bool, kwargs: Mapping[str, Any] | None = None) -> None:
    """Refuse a ``%`` or ``str.format`` template whose widths or precisions would pass MAX_SIZE,
    or whose arguments are too big to print (raises LimitExceeded)."""
    values = [*args, *(kwargs or {}).values()]
    starred = False
    numbers: list[str] = []
    if percent:
        for width, precision in _PERCENT_SPEC.findall(template):
            for number in (width, precision):
                starred |= number == "*"
                if number.isdigit():
                    numbers.append(number)
    else:
        try:
            fields = list(string.Formatter().parse(template))
        except ValueError:
            return  # the formatter itself refuses it
        for _, _, spec, _ in fields:
            if not spec:
                continue
            starred |= "{" in spec
            match = _FORMAT_WIDTH.match(spec)
            if match:
                numbers.extend(number for number in match.groups() if number)
    widths = [int(number) for number in numbers if len(number) <= 12]
    if len(widths) != len(numbers) or any(width > MAX_SIZE for width in widths):
        raise LimitExceeded(f"a format width or precision over {MAX_SIZE:,} is not allowed")
    for value in values:
        if starred and isinstance(value, int) and abs(value) > MAX_SIZE:
            raise LimitExceeded(f"a format width or precision over {MAX_SIZE:,} is not allowed")
        text_size(value, MAX_SIZE)


# --- string methods reachable from templates ---------------------------------------------------

REFUSED_STR_METHODS = frozenset({"translate", "maketrans"})  # a mapping to long strings multiplies anything


def check_str_method(text: str, name: str, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a call of ``text.<name>(...)`` that would build more than MAX_SIZE characters."""
    step()
    if name in ("center", "ljust", "rjust", "zfill"):
        width = args[0] if args else kwargs.get("width", 0)
        if isinstance(width, int):
            refuse_size(width)
    elif name == "expandtabs":
        tabsize = args[0] if args else kwargs.get("tabsize", 8)
        if isinstance(tabsize, int):
            refuse_size(len(text) + text.count("\t") * max(tabsize, 0))
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        count = args[2] if len(args) > 2 else kwargs.get("count", -1)
        _check_replace(text, args[0], args[1], count if isinstance(count, int) else -1)
    elif name == "join" and args:
        _check_join(args[0], text)
    elif name in ("format", "format_map"):
        mapping = args[0] if name == "format_map" and args and isinstance(args[0], Mapping) else None
        check_format(text, () if mapping is not None else args, percent=False, kwargs=mapping or kwargs)


def _check_replace(text: str, old: str, new: str, count: int) -> None:
    found = text.count(old) if old else len(text) + 1
    if count >= 0:
        found = min(found, count)
    refuse_size(len(text) + found * (len(new) - len(old)))


def _check_join(items: Any, separator: Any) -> None:
    if isinstance(items, str):
        refuse_size(len(items) * (1 + len(str(separator))))
        return
    if not isinstance(items, list | tuple | set | frozenset | Mapping):
        return  # a generator: its items are checked as they come (each bounded), the result after
    size = text_size(list(items), MAX_SIZE)
    refuse_size(size + max(len(items) - 1, 0) * len(str(separator)))


# --- filters -----------------------------------------------------------------------------------


def _filter_check(name: str, value: Any, args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> None:
    """Refuse a filter call that would build more than MAX_SIZE characters or items."""

    def arg(index: int, key: str, default: Any) -> Any:
        return args[index] if len(args) > index else kwargs.get(key, default)

    text = value if isinstance(value, str) else None
    if name == "center":
        width = arg(0, "width", 80)
        if isinstance(width, int):
            refuse_size(width)
    elif name == "indent" and text is not None:
        width = arg(0, "width", 4)
        per_line = width if isinstance(width, int) else len(str(width))
        refuse_size(len(text) + (text.count("\n") + 1) * max(per_line, 0))
    elif name == "wordwrap" and text is not None:
        width = arg(0, "width", 79)
        wrap = arg(2, "wrapstring", None) or "\n"
        lines = len(text) // max(width, 1) + text.count("\n") + 1 if isinstance(width, int) else 1
        refuse_size(len(text) + lines * len(str(wrap)))
    elif name == "replace" and text is not None:
        old, new, count = arg(0, "old", ""), arg(1, "new", ""), arg(2, "count", None)
        if isinstance(old, str) and isinstance(new, str):
            _check_replace(text, old, new, count if isinstance(count, int) else -1)
    elif name == "format" and text is not None:
        check_format(text, args, percent=True, kwargs=kwargs)
    elif name == "join":
        _check_join(value, arg(0, "d", ""))
    elif name in ("batch", "slice"):
        count = arg(0, "linecount" if name == "batch" else "slices", 1)
        if isinstance(count, int):
            refuse_size(count)
    elif name == "truncate":
        refuse_size(len(str(arg(2, "end", "..."))))


# Filters that print their value (the others count, pick or reorder items: they cost what the value holds).
_PRINTING = frozenset(
    {
        "capitalize", "center", "e", "escape", "forceescape", "format", "indent", "join", "lower", "pprint",
        "replace", "string", "striptags", "title", "tojson", "trim", "truncate", "upper", "urlencode", "urlize",
        "wordcount", "wordwrap", "xmlattr",
    }
)  # fmt: skip


def _bounded(name: str, func: Callable[..., Any]) -> Callable[..., Any]:
    """``func`` (a Jinja filter) with its arguments checked first; keeps its pass_* marker."""
    passes_first = getattr(func, "jinja_pass_arg", None) is not None
    prints = name in _PRINTING

    @functools.wraps(func)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        step()
        own = args[1:] if passes_first else args
        if own:
            if prints:
                text_size(own[0])
                for extra in (*own[1:], *kwargs.values()):
                    text_size(extra, MAX_SIZE)
            _filter_check(name, own[0], own[1:], kwargs)
        result = func(*args, **kwargs)
        if isinstance(result, str | list):
            refuse_size(len(result), MAX_VALUE_SIZE)
        return result

    return bounded


def bounded_filters(extra: Mapping[str, Callable[..., Any]]) -> dict[str, Callable[..., Any]]:
    """Jinja's filters and ``extra``, each checked, plus the two the rewritten templates call."""
    found = {name: _bounded(name, func) for name, func in {**jinja_filters.FILTERS, **extra}.items()}
    found[CONCAT_FILTER] = concat
    found[COUNT_FILTER] = pass_context(lambda _context, iterable: counted(iterable))
    return found


# --- the rewrite that routes ``~`` and loops through the checks ----------------------------------

CONCAT_FILTER = "__fb_concat"
COUNT_FILTER = "__fb_counted"


class _Rewrite(NodeTransformer):
    """``a ~ b`` → ``[a, b] | __fb_concat``; ``for x in xs`` → ``for x in xs | __fb_counted``."""

    def visit_Concat(self, node: nodes.Concat) -> nodes.Node:
        concat = cast(nodes.Concat, self.generic_visit(node))
        parts = nodes.List(concat.nodes, lineno=concat.lineno)
        return nodes.Filter(parts, CONCAT_FILTER, [], [], None, None, lineno=concat.lineno)

    def visit_For(self, node: nodes.For) -> nodes.Node:
        loop = cast(nodes.For, self.generic_visit(node))
        loop.iter = nodes.Filter(loop.iter, COUNT_FILTER, [], [], None, None, lineno=loop.lineno)
        return loop


def rewrite(tree: nodes.Template) -> nodes.Template:
    """``tree`` with concatenation and loops routed through the budget (before it is compiled)."""
    return cast(nodes.Template, _Rewrite().visit(tree))
