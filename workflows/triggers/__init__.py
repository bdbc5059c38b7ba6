"""Incoming triggers: what starts a run from outside a person's click.

* :mod:`~workflows.triggers.webhook`: ``/hooks/<token>``: tokens, request checks (method, size,
  signature, replay), the per-workflow rate limit, starting the run and waiting for its reply.
* :mod:`~workflows.triggers.schedule`: schedule triggers as beat entries (one ``PeriodicTask``
  per workflow) and firing their ticks (misfire grace, overlap policy).

Not to be confused with the ``webhooks`` app, which sends outgoing run events.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from workflows.models import Workflow


def trigger_config(workflow: Workflow, node_type: str, defaults: Mapping[str, Any]) -> dict[str, Any] | None:
    """The config of the current definition's trigger with ``defaults`` filled in, or None if it is another kind."""
    from executions.engine.definition import trigger_node

    node = trigger_node(workflow.definition)
    if node is None or node.get("type") != node_type:
        return None
    return {**defaults, **(node.get("config") or {})}
