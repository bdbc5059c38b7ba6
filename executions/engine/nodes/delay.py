"""``delay``: wait for a number of seconds or until a time, holding no worker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

from executions.engine.expressions import is_template
from executions.engine.nodes._schema import (
    MAX_WAIT_SECONDS,
    TEXT,
    Problem,
    config_schema,
    dynamic,
    exactly_one_of,
    number,
    prop,
    results,
)
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType, Wait
from flowbuilder import clock


def check(config: Mapping[str, Any]) -> list[Problem]:
    problems = exactly_one_of(config, "seconds", "until")
    until = config.get("until")
    if isinstance(until, str) and not is_template(until):
        try:
            moment = datetime.fromisoformat(until)
        except ValueError:
            moment = None
        if moment is None or moment.tzinfo is None:
            problems.append(
                ("until", f"'{until}' is not an ISO 8601 date-time with a UTC offset, e.g. 2030-01-31T09:00:00Z")
            )
    return problems


def execute(ctx: NodeContext) -> NodeResult:
    """Waits in the database (a wake time the sweep honours), never in a worker or a broker countdown."""
    now = clock.now()
    if "until" in ctx.config:
        try:
            wake_at = datetime.fromisoformat(str(ctx.config["until"]))
        except ValueError:
            raise NodeError(
                f"config.until: '{ctx.config['until']}' is not an ISO 8601 date-time", retryable=False
            ) from None
        if wake_at.tzinfo is None:
            raise NodeError("config.until: the date-time needs a UTC offset, e.g. Z or +02:00", retryable=False)
    else:
        wake_at = now + timedelta(seconds=float(ctx.config.get("seconds", 0)))
    planned = max(0.0, (wake_at - now).total_seconds())
    if ctx.dry_run or planned == 0:
        return NodeResult(
            output={"waited_seconds": 0, **({"simulated": True, "would_wait_seconds": planned} if ctx.dry_run else {})}
        )
    return NodeResult(wait=Wait(wake_at=wake_at, state={"since": now.isoformat()}))


def resume(ctx: NodeContext) -> NodeResult:
    since = datetime.fromisoformat(ctx.state["since"])
    return NodeResult(output={"waited_seconds": round((clock.now() - since).total_seconds(), 3)})


NODE_TYPE = register(
    NodeType(
        type="delay",
        label="Delay",
        description="Waits a number of seconds (at most 30 days) or until a date-time, then passes its input on.",
        category=NodeCategory.CONTROL,
        inline=True,  # it only computes a wake time: no broker hop to start waiting
        config_schema=config_schema(
            {
                "seconds": prop(
                    "Seconds", "How long to wait. Set this or 'until'.", dynamic(number(0, MAX_WAIT_SECONDS))
                ),
                "until": prop(
                    "Until",
                    "When to continue: an ISO 8601 date-time with a UTC offset, or an expression. Set this or 'seconds'.",
                    {**TEXT, "format": "date-time"},
                    examples=["2030-01-31T09:00:00Z"],
                ),
            }
        ),
        output_schema=results(waited_seconds={"type": "number"}),
        check=check,
        execute=execute,
        resume=resume,
    )
)
