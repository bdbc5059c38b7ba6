"""``delay``: wait for a number of seconds or until a time, holding no worker."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
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
from executions.engine.types import NodeCategory, NodeType


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


NODE_TYPE = register(
    NodeType(
        type="delay",
        label="Delay",
        description="Waits a number of seconds (at most 30 days) or until a date-time, then passes its input on.",
        category=NodeCategory.CONTROL,
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
    )
)
