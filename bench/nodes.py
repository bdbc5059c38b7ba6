"""Bench-only node types: ``bench.http_get`` (a plain GET with one reused client) and ``bench.noop``.

The product's ``http_request`` node (with its SSRF guard) would refuse the bench's
loopback server; this one measures the engine, not the guard. Importing this module
also registers the raw Celery baselines (:mod:`bench.tasks`) in the worker. ``bench.noop`` is a
dispatched step that does nothing: the engine's own cost per step, for the script benchmark.
"""

from __future__ import annotations

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


NOOP = register(
    NodeType(
        type="bench.noop",
        label="No-op (bench)",
        description="A dispatched step that does nothing and outputs null. Bench only.",
        category=NodeCategory.DATA,
        config_schema=config_schema({}),
        execute=lambda ctx: NodeResult(output=None),
    )
)
