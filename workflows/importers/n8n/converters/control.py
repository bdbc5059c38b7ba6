"""Flow control: IF, Filter, Switch, Merge, Wait, No Operation, Split in Batches."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from executions.engine.nodes._schema import MAX_WAIT_SECONDS
from workflows.importers.n8n import conditions
from workflows.importers.n8n.base import Converted, Source, Unsupported, port_name
from workflows.importers.n8n.expressions import literal, operand


def if_condition(src: Source) -> Converted:
    return Converted("condition", {"expression": _condition_expression(src)}, ports=("true", "false"))


def filter_condition(src: Source) -> Converted:
    """Filter keeps the matching items: a condition whose 'true' port continues (output 1, if kept, is 'false')."""
    return Converted("condition", {"expression": _condition_expression(src)}, ports=("true", "false"))


def _condition_expression(src: Source) -> str:
    if src.version >= 2:
        expression = conditions.filter_expression(src.param("conditions"), src.scope)
    else:
        combine = src.param("combineOperation", default=src.param("combineConditions", default="all"))
        expression = conditions.legacy_expression(src.param("conditions"), str(combine).lower(), src.scope)
    if expression is None:
        src.warn(
            "its conditions use something that cannot be translated (regular expressions, dates or an "
            "untranslatable expression); config.expression is {{ false }} until you rewrite it",
            at="conditions",
        )
        expression = "false"
    return "{{ " + expression + " }}"


def switch(src: Source) -> Converted:
    if src.param("mode", default="rules") == "expression":
        count = src.param("numberOutputs", default=src.param("outputsAmount", default=4))
        return _switch_on_index(src, count if isinstance(count, int) and count > 0 else 4)
    if src.version >= 3:
        return _switch_rules(src)
    return _legacy_switch_rules(src)


def _switch_on_index(src: Source, count: int) -> Converted:
    """Expression mode: the expression is the output index."""
    value = operand(src.param("output", default=0), src.scope)
    if value is None:
        src.warn(
            "its output expression cannot be translated; every item goes to output 0 until you fix it", at="output"
        )
        value = "0"
    ports = tuple(f"output_{index}" for index in range(count))
    cases = [{"port": port, "equals": index} for index, port in enumerate(ports)]
    return Converted("switch", {"value": "{{ " + value + " }}", "cases": cases}, ports=ports)


def _switch_rules(src: Source) -> Converted:
    rules = [rule for rule in src.param("rules", "values", default=[]) if isinstance(rule, Mapping)]
    if not rules:
        raise Unsupported("has no routing rules")
    labels = [rule.get("outputKey") if rule.get("renameOutput") else None for rule in rules]
    ports = _unique_ports(labels)
    fallback = src.param("options", "fallbackOutput", default="none")
    default_port = "fallback"
    if fallback == "extra":
        default_port = _unique_ports([*labels, src.param("options", "renameFallbackOutput") or "fallback"])[-1]
        ports = (*ports, default_port)
    elif isinstance(fallback, int) and 0 <= fallback < len(ports):
        default_port = ports[fallback]
    if src.param("options", "allMatchingOutputs", default=False):
        src.warn("sent items to every matching output; only the first matching output is taken", at="options")
    config = _switch_on_equality(src, rules, ports) or _switch_chain(
        src, [rule.get("conditions") for rule in rules], ports, default_port
    )
    config["default_port"] = default_port
    return Converted("switch", config, ports=ports)


def _switch_on_equality(src: Source, rules: list[Mapping[str, Any]], ports: tuple[str, ...]) -> dict[str, Any] | None:
    """Every rule is "<same left> equals <distinct fixed value>": a readable ``value`` and ``cases``."""
    pairs = [_equality_rule(rule) for rule in rules]
    if any(pair is None for pair in pairs):
        return None
    lefts = {json.dumps(left) for left, _ in pairs}
    rights = [right for _, right in pairs]
    if len(lefts) != 1 or len({json.dumps(right) for right in rights}) != len(rights):
        return None
    value = operand(pairs[0][0], src.scope)
    if value is None:
        return None
    cases = [{"port": port, "equals": right} for port, right in zip(ports, rights, strict=False)]
    return {"value": "{{ " + value + " }}", "cases": cases}


def _equality_rule(rule: Mapping[str, Any]) -> tuple[Any, Any] | None:
    """(left, right) of a rule that is exactly one case-sensitive "left equals <fixed value>"."""
    group = rule.get("conditions")
    items = group.get("conditions") if isinstance(group, Mapping) else None
    if not isinstance(items, list) or len(items) != 1 or not isinstance(items[0], Mapping):
        return None
    options = group.get("options") if isinstance(group.get("options"), Mapping) else {}
    operator = items[0].get("operator") if isinstance(items[0].get("operator"), Mapping) else {}
    right = items[0].get("rightValue")
    if operator.get("operation") != "equals" or options.get("caseSensitive", True) is False:
        return None
    if isinstance(right, str) and right.startswith("="):
        return None
    return items[0].get("leftValue"), right


def _switch_chain(src: Source, rule_conditions: list[Any], ports: tuple[str, ...], default_port: str) -> dict[str, Any]:
    """Any rules: the value is the port of the first rule that holds, and each case matches its port name."""
    expression = literal(default_port)
    for index in reversed(range(len(rule_conditions))):
        condition = conditions.filter_expression(rule_conditions[index], src.scope)
        if condition is None:
            src.warn(
                f"the conditions of its output {index} cannot be translated; that output is never taken "
                "until you rewrite config.value",
                at=f"rules.values[{index}]",
            )
            continue
        expression = f"{literal(ports[index])} if ({condition}) else {expression}"
    cases = [{"port": port, "equals": port} for port in ports]
    return {"value": "{{ " + expression + " }}", "cases": cases}


def _legacy_switch_rules(src: Source) -> Converted:
    """Switch 1-2: ``value1`` compared by each ``rules.rules[]`` with its ``output`` index."""
    rules = [rule for rule in src.param("rules", "rules", default=[]) if isinstance(rule, Mapping)]
    if not rules:
        raise Unsupported("has no routing rules")
    fallback = src.param("fallbackOutput", default=-1)
    outputs = [rule.get("output", 0) if isinstance(rule.get("output", 0), int) else 0 for rule in rules]
    count = max([*outputs, fallback if isinstance(fallback, int) else -1, 3]) + 1
    ports = tuple(f"output_{index}" for index in range(count))
    default_port = ports[fallback] if isinstance(fallback, int) and fallback >= 0 else "fallback"
    data_type = src.param("dataType", default="number")
    expression = literal(default_port)
    for index in reversed(range(len(rules))):
        rule = rules[index]
        condition = conditions.legacy_comparison(
            data_type, src.param("value1", default=""), rule.get("operation"), rule.get("value2"), src.scope
        )
        if condition is None:
            src.warn(f"its rule {index} cannot be translated; it never matches until you rewrite config.value")
            continue
        expression = f"{literal(ports[outputs[index]])} if ({condition}) else {expression}"
    cases = [{"port": port, "equals": port} for port in ports]
    config = {"value": "{{ " + expression + " }}", "cases": cases, "default_port": default_port}
    return Converted("switch", config, ports=ports)


def _unique_ports(labels: list[Any]) -> tuple[str, ...]:
    ports: list[str] = []
    for index, label in enumerate(labels):
        port = port_name(label, f"output_{index}") if isinstance(label, str) and label else f"output_{index}"
        while port in ports or port == "error":
            port = f"{port}_{index}"
        ports.append(port)
    return tuple(ports)


_MERGE_MODES = {"append": "wait_all", "chooseBranch": "wait_all", "wait": "wait_all", "passThrough": "first"}


def merge(src: Source) -> Converted:
    mode = src.param("mode", default="append")
    if mode not in _MERGE_MODES:
        src.warn(
            f"its mode '{mode}' combines items, which is not reproduced: the merge outputs "
            "{node id: output} of its inputs; reshape it with a transform",
            at="mode",
        )
    return Converted("merge", {"mode": _MERGE_MODES.get(mode, "wait_all")})


_UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600, "days": 86400}


def wait(src: Source) -> Converted:
    resume = src.param("resume", default="timeInterval")
    if resume == "timeInterval":
        amount, unit = (1, "hours") if src.version < 1.1 else (5, "seconds")
        return Converted(
            "delay", {"seconds": _seconds(src, src.param("amount", default=amount), src.param("unit", default=unit))}
        )
    if resume == "specificTime":
        return Converted("delay", {"until": _until(src, src.param("dateTime", default=""))})
    raise Unsupported(f"waits for a {resume} call; use an approval node for a person's decision")


def _seconds(src: Source, amount: Any, unit: Any) -> Any:
    factor = _UNIT_SECONDS.get(unit, 1)
    if isinstance(amount, str):
        expression = operand(amount, src.scope)
        if expression is None:
            raise Unsupported(f"waits for {amount!r} {unit}, which cannot be translated")
        return "{{ " + (expression if factor == 1 else f"({expression}) * {factor}") + " }}"
    if not isinstance(amount, int | float) or isinstance(amount, bool):
        raise Unsupported(f"waits for {amount!r} {unit}, which is not a number")
    seconds = float(amount) * factor
    if seconds > MAX_WAIT_SECONDS:
        src.warn("waits longer than the 30 days a delay allows; it waits 30 days", at="amount")
    seconds = min(max(seconds, 0), MAX_WAIT_SECONDS)
    return int(seconds) if seconds.is_integer() else seconds


def _until(src: Source, moment: Any) -> str:
    if not isinstance(moment, str) or not moment:
        raise Unsupported("waits until a date-time it does not give")
    if moment.startswith("="):
        return src.template(moment, at="dateTime", into="until")
    try:
        parsed = datetime.fromisoformat(moment.replace("Z", "+00:00"))
    except ValueError as error:
        raise Unsupported(f"waits until '{moment}', which is not an ISO 8601 date-time") from error
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=ZoneInfo(src.timezone or "UTC"))
    return parsed.isoformat()


def no_op(src: Source) -> Converted:
    return Converted("transform", {"value": src.pass_through()})


def split_in_batches(src: Source) -> Converted:
    raise Unsupported("loops over batches; use a for_each node running a sub-workflow")
