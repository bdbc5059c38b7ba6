"""``bench.http_get``: a bench-only node type doing a plain GET with one reused client; ``bench.sleep``.

The product's ``http_request`` node (with its SSRF guard) would refuse the bench's
loopback server; this one measures the engine, not the guard. Importing this module
also registers the raw Celery baselines (:mod:`bench.tasks`) in the worker.
"""

from __future__ import annotations

import time

import httpx

from bench import tasks  # noqa: F401  (registers the baseline tasks on the Celery app)
from executions.engine.nodes._schema import config_schema, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType

CLIENT = httpx.Client(timeout=10, trust_env=False)


def execute(ctx: NodeContext) -> NodeResult:
    try:
        response = CLIENT.get(ctx.config["url"])
    except httpx.HTTPError as exc:
        raise NodeError(f"GET failed: {exc}") from exc
    return NodeResult(output={"status": response.status_code})


NODE_TYPE = register(
    NodeType(
        type="bench.http_get",
        label="HTTP GET (bench)",
        description="GET a URL with one reused client; outputs the status. Bench only: no SSRF guard.",
        category=NodeCategory.INTEGRATION,
        config_schema=config_schema({"url": prop("URL", "What to GET.", {"type": "string"})}, required=("url",)),
        side_effects=True,
        execute=execute,
    )
)


def sleep(ctx: NodeContext) -> NodeResult:
    time.sleep(float(ctx.config.get("seconds", 0.02)))
    return NodeResult(output={"slept": ctx.config.get("seconds", 0.02)})


SLEEP_TYPE = register(
    NodeType(
        type="bench.sleep",
        label="Sleep (bench)",
        description="Sleeps `seconds`: a dispatched step that takes a known time.",
        category=NodeCategory.DATA,
        config_schema=config_schema({"seconds": prop("Seconds", "How long.", {"type": "number", "minimum": 0})}),
        execute=sleep,
    )
)
