"""Recording what an attempt gave: output and ports, a failure and its retry, a wait."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from django.conf import settings

from executions.engine import context as node_context
from executions.engine import credentials
from executions.engine.definition import Node
from executions.engine.dispatch import dispatcher
from executions.engine.runner.children import start_children
from executions.engine.runner.finish import finish
from executions.engine.runner.state import Outcome, Run, default_ports
from executions.engine.types import NodeResult, Wait
from executions.models import Execution, StepRun
from flowbuilder import clock


def apply_outcome(run: Run, step: StepRun, outcome: Outcome) -> None:
    outcome = _redacted(outcome)
    for level, message, data in outcome.logs:
        run.log(level, message, node_id=step.node_id, data=data)
    if outcome.error is not None:
        fail_step(run, step, outcome.error, retryable=outcome.retryable, data=outcome.error_data)
        return
    result = outcome.result or NodeResult()
    if result.wait is not None:
        _wait(run, step, result.wait)
        return
    problem = node_context.output_size_error(result.output)
    if problem:
        fail_step(run, step, problem, retryable=False)
        return
    node = run.graph.nodes[step.node_id]
    step.status = StepRun.Status.COMPLETED
    step.output = result.output
    step.ports = list(result.ports) if result.ports is not None else default_ports(node)
    step.error = None
    step.completed_at = clock.now()
    step.lease_expires_at = None
    step.next_attempt_at = step.wake_at = None
    run.remember_output(step)
    run.touch(step)
    if result.detached_children:
        problem = start_children(run, step, result.detached_children, detached=True)
        if problem:
            fail_step(run, step, problem, retryable=False)


def _redacted(outcome: Outcome) -> Outcome:
    """The outcome with its credentials' secrets replaced in everything that will be stored, and storable
    (no NUL characters: see :func:`node_context.storable`)."""
    secrets = outcome.secrets

    def clean(value: Any) -> Any:
        return node_context.storable(credentials.redact(value, secrets))

    result = outcome.result
    if result is not None and result.output is not None:
        result = replace(result, output=clean(result.output))
    return replace(
        outcome,
        result=result,
        error=clean(outcome.error),
        error_data=clean(outcome.error_data),
        logs=[(level, clean(m), clean(d)) for level, m, d in outcome.logs],
        secrets=frozenset(),
    )


def _backoff(node: Node, attempt: int) -> float:
    base = float(node.retry.get("backoff_seconds", 1))
    cap = float(node.retry.get("backoff_max_seconds", 3600))
    return min(cap, base * 2.0 ** max(0, attempt - 1))


def attempt_record(step: StepRun, outcome: str) -> dict[str, Any]:
    """An attempt that will not be the step's last, for its log line: the console's timeline draws it."""
    return {
        "attempt": step.attempt,
        "outcome": outcome,
        "queued_at": step.queued_at.isoformat() if step.queued_at else None,
        "started_at": step.started_at.isoformat() if step.started_at else None,
    }


def fail_step(run: Run, step: StepRun, message: str, *, retryable: bool, data: Any = None) -> None:
    node = run.graph.nodes[step.node_id]
    error = {"message": message, "attempt": step.attempt}
    if data is not None:
        error["data"] = data
    max_attempts = int(node.retry.get("max_attempts", 1))
    if retryable and step.attempt < max_attempts:
        delay = _backoff(node, step.attempt)
        step.status = StepRun.Status.RETRYING
        step.error = error
        step.next_attempt_at = run.now + timedelta(seconds=delay)
        step.lease_expires_at = None
        run.touch(step)
        run.log(
            "warning",
            f"Attempt {step.attempt} of {max_attempts} failed: {message}; retrying in {delay:g}s",
            node_id=node.id,
            data=attempt_record(step, "failed"),
        )
        if delay <= settings.FLOWBUILDER_MAX_COUNTDOWN_SECONDS:
            step_id = step.pk
            run.later(lambda: dispatcher().run_step(step_id, countdown=delay))
        return
    step.status = StepRun.Status.FAILED
    step.error = error
    step.completed_at = clock.now()
    step.lease_expires_at = step.next_attempt_at = step.wake_at = None
    run.log("error", f"Step failed: {message}", node_id=node.id)
    policy = node.on_error or run.graph.settings.get("on_error") or "stop"
    if policy == "error_port":
        step.ports = ["error"]
        step.output = {"error": message}
    elif policy == "continue":
        step.ports = default_ports(node)
        step.output = None
    else:
        step.ports = []
    run.remember_output(step)
    run.touch(step)
    if policy == "stop":
        finish(run, Execution.Status.FAILED, {"message": message, "node_id": node.id})


def _wait(run: Run, step: StepRun, wait: Wait) -> None:
    step.status = StepRun.Status.WAITING
    step.state = dict(wait.state)
    step.wake_at = wait.wake_at
    step.lease_expires_at = None
    run.touch(step)
    step_id = step.pk
    if wait.wake_at is not None:
        delay = max(0.0, (wait.wake_at - run.now).total_seconds())
        if delay <= settings.FLOWBUILDER_MAX_COUNTDOWN_SECONDS:
            run.later(lambda: dispatcher().wake_step(step_id, countdown=delay))
    if wait.children:
        problem = start_children(run, step, wait.children)
        if problem:
            fail_step(run, step, problem, retryable=False)
