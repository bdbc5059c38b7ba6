"""``merge``: join branches into one, waiting for all of them or taking the first."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.engine.nodes._schema import config_schema, prop
from executions.engine.registry import register
from executions.engine.types import Inbound, NodeCategory, NodeContext, NodeResult, NodeType, Readiness


def joins(config: Mapping[str, Any], inbound: Inbound) -> Readiness:
    """``first`` goes on with the first branch that arrives; ``wait_all`` waits for every branch to be decided."""
    if config.get("mode") == "first" and inbound.taken:
        return Readiness.RUN
    if inbound.resolved < inbound.total:
        return Readiness.WAIT
    return Readiness.RUN if inbound.taken else Readiness.SKIP


def execute(ctx: NodeContext) -> NodeResult:
    """``{source node id: output}`` of the branches that arrived."""
    return NodeResult(output=dict(ctx.inputs))


NODE_TYPE = register(
    NodeType(
        type="merge",
        label="Merge",
        description="Joins branches: outputs {source node id: output} of its predecessors once all (or the first) finish.",
        category=NodeCategory.CONTROL,
        config_schema=config_schema(
            {
                "mode": prop(
                    "Mode",
                    "'wait_all': wait for every branch that is not skipped; 'first': continue with the first to finish.",
                    {"enum": ["wait_all", "first"]},
                    default="wait_all",
                ),
            }
        ),
        inline=True,
        joins=joins,
        execute=execute,
    )
)
