"""``trigger.schedule``: start a run at the times a cron expression names, in a time zone."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from django.conf import settings

from executions.engine import cron
from executions.engine.nodes._schema import TEXT, Problem, config_schema, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType


def check(config: Mapping[str, Any]) -> list[Problem]:
    """A five-field cron, a known time zone, and ticks no closer than FLOWBUILDER_SCHEDULE_MIN_INTERVAL_SECONDS."""
    problems: list[Problem] = []
    expression, timezone = config.get("cron"), config.get("timezone", "UTC")
    problem = cron.cron_problem(expression) if isinstance(expression, str) else None
    if problem:
        problems.append(("cron", problem))
    elif isinstance(expression, str):
        minimum = timedelta(seconds=settings.FLOWBUILDER_SCHEDULE_MIN_INTERVAL_SECONDS)
        # Five-field crons never tick more often than once a minute: only a larger minimum needs the scan.
        shortest = cron.shortest_interval(expression) if minimum > timedelta(minutes=1) else None
        if shortest is not None and shortest < minimum:
            problems.append(
                (
                    "cron",
                    f"'{expression}' runs every {_human(shortest)} at times; "
                    f"schedules may run at most every {_human(minimum)}",
                )
            )
    if isinstance(timezone, str):
        try:
            cron.zone(timezone)
        except cron.CronError as exc:
            problems.append(("timezone", str(exc)))
    return problems


def _human(interval: timedelta) -> str:
    seconds = int(interval.total_seconds())
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds % size == 0 and seconds >= size:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} seconds"


def execute(ctx: NodeContext) -> NodeResult:
    """The trigger's output is the run's input: ``{scheduled_for}`` (ISO 8601) when beat started it."""
    return NodeResult(output=ctx.expression_context.get("input"))


NODE_TYPE = register(
    NodeType(
        type="trigger.schedule",
        label="Schedule Trigger",
        description="Starts the workflow on a cron schedule, evaluated in the given time zone.",
        category=NodeCategory.TRIGGER,
        config_schema=config_schema(
            {
                "cron": prop(
                    "Cron", "Five fields: minute hour day-of-month month day-of-week.", TEXT, examples=["0 9 * * 1-5"]
                ),
                "timezone": prop("Time zone", "The IANA time zone the schedule runs in.", TEXT, default="UTC"),
                "overlap": prop(
                    "Overlap",
                    "When a run is due while the previous one is still going: 'skip' it, 'queue' it, or 'allow' both.",
                    {"enum": ["skip", "queue", "allow"]},
                    default="skip",
                ),
            },
            required=("cron",),
        ),
        inputs=(),
        is_trigger=True,
        inline=True,
        output_schema=results(scheduled_for={"type": "string", "format": "date-time"}),
        check=check,
        execute=execute,
    )
)
