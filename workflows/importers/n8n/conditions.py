"""n8n conditions (IF, Filter, Switch rules) → one Jinja boolean expression.

Two shapes exist: the filter of IF ≥ 2 / Filter ≥ 2 / Switch ≥ 3
(``{conditions: [{leftValue, rightValue, operator: {type, operation}}], combinator,
options: {caseSensitive}}``) and the per-type lists of IF 1 / Switch 1-2
(``{string: [{value1, operation, value2}], number: […], boolean: […]}``).
Each function answers None when a condition uses something we cannot express
(regular expressions, dates, an untranslatable operand); the caller reports it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.importers.n8n.expressions import Scope, operand, wrap

# Filter operations (IF ≥ 2) → a Jinja expression of the operands {l} and {r}.
_BINARY = {
    "equals": "{l} == {r}",
    "notEquals": "{l} != {r}",
    "gt": "{l} > {r}",
    "lt": "{l} < {r}",
    "gte": "{l} >= {r}",
    "lte": "{l} <= {r}",
    "contains": "{r} in {l}",
    "notContains": "{r} not in {l}",
    "startsWith": "{l}.startswith({r})",
    "notStartsWith": "not {l}.startswith({r})",
    "endsWith": "{l}.endswith({r})",
    "notEndsWith": "not {l}.endswith({r})",
    "lengthEquals": "({l} | length) == {r}",
    "lengthNotEquals": "({l} | length) != {r}",
    "lengthGt": "({l} | length) > {r}",
    "lengthLt": "({l} | length) < {r}",
    "lengthGte": "({l} | length) >= {r}",
    "lengthLte": "({l} | length) <= {r}",
}
_UNARY = {
    "exists": "{l} is defined",
    "notExists": "{l} is not defined",
    "empty": "not {l}",
    "notEmpty": "not not {l}",
    "true": "{l} == true",
    "false": "{l} == false",
}
# IF 1 / Switch 1-2 operation names → the filter's.
_LEGACY_OPERATIONS = {
    "equal": "equals",
    "notEqual": "notEquals",
    "smaller": "lt",
    "smallerEqual": "lte",
    "larger": "gt",
    "largerEqual": "gte",
    "isEmpty": "empty",
    "isNotEmpty": "notEmpty",
}
_LEGACY_DEFAULTS = {"string": "equal", "number": "smaller", "boolean": "equal"}


def comparison(
    left: Any, operation: str, right: Any, scope: Scope, *, value_type: str = "string", case_sensitive: bool = True
) -> str | None:
    """One condition as Jinja, or None."""
    if value_type == "dateTime":
        return None
    template = _BINARY.get(operation) or _UNARY.get(operation)
    if template is None:
        return None
    if value_type == "number" and isinstance(right, str) and not right.startswith("="):
        right = as_number(right)
    left_expr = operand(left, scope)
    right_expr = operand(right, scope) if operation in _BINARY else "none"
    if left_expr is None or right_expr is None:
        return None
    left_expr, right_expr = wrap(left_expr), wrap(right_expr)
    if value_type == "string" and not case_sensitive and operation in _BINARY:
        left_expr, right_expr = f"({left_expr} | lower)", f"({right_expr} | lower)"
    return template.format(l=left_expr, r=right_expr)


def combine(parts: list[str], combinator: str) -> str:
    word = " or " if combinator in ("or", "any") else " and "
    if len(parts) == 1:
        return parts[0]
    return word.join(f"({part})" for part in parts)


def filter_expression(conditions: Any, scope: Scope) -> str | None:
    """The filter shape (IF ≥ 2, Filter ≥ 2, a Switch ≥ 3 rule) as Jinja, or None."""
    if not isinstance(conditions, Mapping):
        return None
    options = conditions.get("options") if isinstance(conditions.get("options"), Mapping) else {}
    parts = []
    for condition in conditions.get("conditions") or []:
        if not isinstance(condition, Mapping):
            return None
        operator = condition.get("operator") if isinstance(condition.get("operator"), Mapping) else {}
        part = comparison(
            condition.get("leftValue", ""),
            str(operator.get("operation", "equals")),
            condition.get("rightValue", ""),
            scope,
            value_type=str(operator.get("type", "string")),
            case_sensitive=options.get("caseSensitive", True) is not False,
        )
        if part is None:
            return None
        parts.append(part)
    if not parts:
        return None
    return combine(parts, str(conditions.get("combinator", "and")))


def legacy_expression(conditions: Any, combine_operation: str, scope: Scope) -> str | None:
    """IF 1's ``{string: […], number: […], boolean: […]}`` as Jinja, or None."""
    if not isinstance(conditions, Mapping):
        return None
    parts = []
    for value_type, items in conditions.items():
        for item in items or []:
            if not isinstance(item, Mapping):
                return None
            part = legacy_comparison(
                value_type, item.get("value1", ""), item.get("operation"), item.get("value2"), scope
            )
            if part is None:
                return None
            parts.append(part)
    if not parts:
        return None
    return combine(parts, combine_operation)


def legacy_comparison(value_type: str, left: Any, operation: Any, right: Any, scope: Scope) -> str | None:
    operation = str(operation or _LEGACY_DEFAULTS.get(value_type, "equal"))
    if right is None:
        right = {"number": 0, "boolean": False}.get(value_type, "")
    return comparison(left, _LEGACY_OPERATIONS.get(operation, operation), right, scope, value_type=value_type)


def as_number(text: str) -> Any:
    """``"5"`` → 5, ``"2.5"`` → 2.5; other text as it is."""
    try:
        number = float(text)
    except ValueError:
        return text
    return int(number) if number.is_integer() else number
