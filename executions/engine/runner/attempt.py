"""One attempt of a node: the one place a node's code is called."""

from __future__ import annotations

import logging
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from datetime import datetime
from typing import Any

from executions.engine import context as node_context
from executions.engine import credentials, expression_limits
from executions.engine.definition import Node
from executions.engine.runner.state import Outcome
from executions.engine.types import NodeContext, NodeError, NodeResult, NodeType
from flowbuilder import clock

logger = logging.getLogger(__name__)


def attempt(
    node: Node,
    build: Callable[[NodeType], NodeContext],
    *,
    retries: bool,
    resume: dict[str, Any] | None = None,
    around: Callable[[], AbstractContextManager[object]] = nullcontext,
    label: str,
    inline: bool = False,
    deadline: datetime | None = None,
) -> Outcome:
    """Run one attempt of ``node`` and answer its outcome; never raises.

    The one place a node's code is called, for dispatched steps, inline nodes and resumed waits
    alike: ``build`` renders the config and makes the node's context, the credential is attached,
    ``execute`` (or ``resume`` with ``resume`` as ``ctx.resume``) runs inside ``around`` (a dispatched
    step holds its lease there). A ``NodeError`` is the step's failure as the user sees it; anything
    else is a bug in the node and fails the step too, logged (without a traceback when the step holds
    a credential). The node's log lines are kept either way. Only ``retries`` attempts may be retried
    by the node's policy (inline and resumed ones run in the run's transaction and are not).

    Expressions rendered and evaluated in the attempt share one budget (``time_limit``): the node's
    ``timeout_seconds``, an ``inline`` node's default, and the run's ``deadline``, whichever ends first.
    """
    ctx: NodeContext | None = None
    resolved: credentials.ResolvedCredential | None = None
    try:
        node_type = node_context.node_type_of(node)
        with time_limit(node, inline=inline, deadline=deadline):
            ctx = build(node_type)
        if resume is not None:
            ctx.resume = resume
        resolved = credentials.attach(ctx)
        call = node_type.execute if resume is None else node_type.resume
        if call is None:
            verb = "run" if resume is None else "resume"
            raise NodeError(f"Node type '{node.type}' cannot {verb}", retryable=False)
        with around(), time_limit(node, inline=inline, deadline=deadline):
            result = call(ctx)
        if not isinstance(result, NodeResult):
            raise NodeError(f"Node type '{node.type}' returned no result", retryable=False)
        outcome = Outcome(result=result, logs=ctx.logs)
    except NodeError as exc:
        logs = ctx.logs if ctx else []
        outcome = Outcome(error=exc.message, retryable=retries and exc.retryable, error_data=exc.data, logs=logs)
    except Exception as exc:  # a bug in a node must fail the step, not the runner
        _log_node_exception(f"{label} raised", resolved)
        outcome = Outcome(error=f"{type(exc).__name__}: {exc}", retryable=retries, logs=ctx.logs if ctx else [])
    outcome.secrets = credentials.secrets_used(resolved, ctx)
    return outcome


def time_limit(node: Node, *, inline: bool, deadline: datetime | None) -> AbstractContextManager[None]:
    """The expression budget of an attempt of ``node``: its timeout_seconds (an inline node has
    ``MAX_RENDER_SECONDS`` without one) and the time the run has left, whichever is tighter."""
    limits: list[tuple[float, str]] = []
    if node.timeout_seconds:
        limits.append((float(node.timeout_seconds), "the node's timeout_seconds"))
    elif inline:
        limits.append((expression_limits.MAX_RENDER_SECONDS, "the time limit of an inline node"))
    if deadline is not None:
        limits.append((max((deadline - clock.now()).total_seconds(), 0.0), "the run's timeout"))
    if not limits:
        return nullcontext()
    seconds, reason = min(limits)
    return expression_limits.time_limit(seconds, reason)


def _log_node_exception(message: str, resolved: credentials.ResolvedCredential | None) -> None:
    # A traceback may quote the node's secrets; a step with a credential logs only that it failed.
    if resolved is None:
        logger.exception(message)
    else:
        logger.error("%s (traceback withheld: the step used a credential)", message)
