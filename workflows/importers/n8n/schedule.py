"""n8n schedules (Schedule Trigger rules, the old Cron and Interval nodes) → a 5-field cron expression.

Each function answers ``(cron, None)`` or ``(None, why not)``: our schedules
have minute resolution and one cron expression per workflow.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from croniter import croniter

Result = tuple[str | None, str | None]


def five_fields(expression: Any) -> Result:
    """A 5-field cron from n8n's 5- or 6-field one (seconds first: only ``0`` can be dropped)."""
    if not isinstance(expression, str) or expression.startswith("="):
        return None, f"the cron expression {expression!r} is not a fixed value"
    fields = expression.split()
    if len(fields) == 6:
        if fields[0] not in ("0", "00"):
            return None, f"'{expression}' fires at second resolution; Flowbuilder schedules have minute resolution"
        fields = fields[1:]
    cron = " ".join(fields)
    if len(fields) != 5 or not croniter.is_valid(cron):
        return None, f"'{expression}' is not a cron expression Flowbuilder understands"
    return cron, None


def every_seconds(seconds: Any) -> Result:
    """A cron firing every ``seconds`` when that is a whole number of minutes or hours that cron can express."""
    if not isinstance(seconds, int | float) or seconds <= 0 or seconds % 60:
        return None, f"an interval of {seconds} seconds cannot be expressed at minute resolution"
    minutes = int(seconds // 60)
    if minutes < 60:
        return ("* * * * *" if minutes == 1 else f"*/{minutes} * * * *"), None
    if minutes % 60 == 0 and minutes // 60 < 24:
        hours = minutes // 60
        return ("0 * * * *" if hours == 1 else f"0 */{hours} * * *"), None
    return None, f"an interval of {minutes} minutes cannot be expressed as a cron schedule"


def _every(count: Any) -> str:
    return "*" if count in (1, "1", None) else f"*/{count}"


def schedule_rule(rule: Mapping[str, Any]) -> Result:
    """One ``rule.interval`` entry of the Schedule Trigger."""
    field = rule.get("field", "days")
    minute, hour = rule.get("triggerAtMinute", 0), rule.get("triggerAtHour", 0)
    if field == "cronExpression":
        return five_fields(rule.get("expression", ""))
    if field == "seconds":
        return every_seconds(rule.get("secondsInterval", 30))
    if field == "minutes":
        return every_seconds(60 * _count(rule.get("minutesInterval", 5)))
    if field == "hours":
        return _checked(f"{minute} {_every(rule.get('hoursInterval', 1))} * * *")
    if field == "days":
        return _checked(f"{minute} {hour} {_every(rule.get('daysInterval', 1))} * *")
    if field == "weeks":
        if rule.get("weeksInterval", 1) not in (1, "1"):
            return None, "a schedule every few weeks cannot be expressed as a cron expression"
        days = rule.get("triggerAtDay", [0])
        weekdays = ",".join(str(day) for day in days) if isinstance(days, list) and days else "*"
        return _checked(f"{minute} {hour} * * {weekdays}")
    if field == "months":
        day = rule.get("triggerAtDayOfMonth", 1)
        return _checked(f"{minute} {hour} {day} {_every(rule.get('monthsInterval', 1))} *")
    return None, f"the schedule interval '{field}' is not known"


def cron_node_item(item: Mapping[str, Any]) -> Result:
    """One ``triggerTimes.item`` entry of the old Cron node (its defaults: every day at 14:00)."""
    mode = item.get("mode", "everyDay")
    minute, hour = item.get("minute", 0), item.get("hour", 14)
    crons = {
        "everyMinute": "* * * * *",
        "everyHour": f"{minute} * * * *",
        "everyDay": f"{minute} {hour} * * *",
        "everyWeek": f"{minute} {hour} * * {item.get('weekday', 1)}",
        "everyMonth": f"{minute} {hour} {item.get('dayOfMonth', 1)} * *",
    }
    if mode in crons:
        return _checked(crons[mode])
    if mode == "everyX":
        factor = {"minutes": 60, "hours": 3600}.get(item.get("unit", "hours"), 0)
        return every_seconds(_count(item.get("value", 2)) * factor)
    if mode == "custom":
        return five_fields(item.get("cronExpression", ""))
    return None, f"the Cron mode '{mode}' is not known"


def interval_node(parameters: Mapping[str, Any]) -> Result:
    """The old Interval node: ``interval`` times ``unit`` (seconds by default)."""
    factor = {"seconds": 1, "minutes": 60, "hours": 3600}.get(parameters.get("unit", "seconds"), 0)
    return every_seconds(_count(parameters.get("interval", 1)) * factor)


def _count(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0


def _checked(cron: str) -> Result:
    if croniter.is_valid(cron) and len(cron.split()) == 5:
        return cron, None
    return None, f"the schedule makes the cron expression '{cron}', which is not valid"
