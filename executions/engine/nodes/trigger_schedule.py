"""``trigger.schedule``: start a run at the times a cron expression names, in a time zone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from executions.engine.nodes._schema import TEXT, Problem, config_schema, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeResult, NodeType


def check(config: Mapping[str, Any]) -> list[Problem]:
    problems: list[Problem] = []
    cron, timezone = config.get("cron"), config.get("timezone", "UTC")
    if isinstance(cron, str) and (len(cron.split()) != 5 or not croniter.is_valid(cron)):
        problems.append(("cron", f"'{cron}' is not a cron expression of 5 fields (minute hour day month weekday)"))
    if isinstance(timezone, str):
        try:
            ZoneInfo(timezone)
        except (ZoneInfoNotFoundError, ValueError):
            problems.append(("timezone", f"'{timezone}' is not an IANA time zone (e.g. Europe/Paris)"))
    return problems


def execute(ctx: NodeContext) -> NodeResult:
    """The trigger's output is the run's input."""
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
