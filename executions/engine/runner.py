"""The runner: pure orchestration of a run's steps (no Celery here).

Every state change of an execution happens in a transaction holding the
execution's row lock (:class:`Run`), which serialises the completions of
parallel branches. In it the runner records a step's result, runs the pure
(``inline``) nodes that became ready right there, marks the others queued,
and decides when the run is over. The work to do next, and the events, leave
only after commit (``transaction.on_commit``): tasks through
:mod:`executions.engine.dispatch`, events through :mod:`executions.broadcast`.

Readiness: a node runs when every inbound edge is resolved and taken (its
source finished and chose that port). If any inbound edge is resolved but not
taken (an untaken branch, a skipped source) the node is skipped, which
propagates down the branch. A ``merge`` node stops that: it runs when at
least one inbound edge is taken (``wait_all``: once all are resolved;
``first``: at the first one).
"""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache, partial
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import F, Field
from django.utils import timezone

from executions import broadcast
from executions.engine import children as child_runs
from executions.engine import context as node_context
from executions.engine import credentials
from executions.engine.definition import Graph, Node
from executions.engine.dispatch import dispatcher
from executions.engine.types import ChildRun, Inbound, NodeContext, NodeError, NodeResult, NodeType, Readiness, Wait
from executions.models import Execution, ExecutionLog, StepRun
from executions.signals import execution_finished as execution_finished_signal
from workflows.models import WorkflowVersion

logger = logging.getLogger(__name__)

WORKER_NAME = f"{socket.gethostname()}"

RUN, WAIT, SKIP = Readiness.RUN, Readiness.WAIT, Readiness.SKIP
# What the runner changes on an execution; the (large) input is never rewritten,
# and the output only when the run ends (it is not even loaded before).
EXECUTION_STATE_FIELDS = [
    "status",
    "progress",
    "current_step",
    "event_seq",
    "started_at",
    "completed_at",
    "error",
    "output_data",
    "updated_at",
]
RUNNING_STATE_FIELDS = [f for f in EXECUTION_STATE_FIELDS if f != "output_data"]


@lru_cache(maxsize=512)
def graph_for_version(version_id: Any) -> Graph:
    """Versions are immutable, so their parsed graphs are cached per process."""
    return Graph.from_definition(WorkflowVersion.objects.values_list("definition", flat=True).get(pk=version_id))


@dataclass
class Outcome:
    """A finished attempt: a NodeResult, or an error message.

    ``secrets`` are those of the credentials the attempt used: redacted before anything is stored.
    """

    result: NodeResult | None = None
    error: str | None = None
    retryable: bool = True
    error_data: Any = None
    logs: list[tuple[str, str, Any]] = field(default_factory=list)
    secrets: frozenset[str] = frozenset()


@dataclass
class Run:
    """One execution's state while the runner holds its row lock."""

    execution: Execution
    graph: Graph
    steps: dict[str, StepRun]
    now: datetime
    dirty_steps: set[str] = field(default_factory=set)
    events: list[dict[str, Any]] = field(default_factory=list)
    logs: list[ExecutionLog] = field(default_factory=list)
    after_commit: list[Callable[[], object]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)

    # --- bookkeeping -------------------------------------------------------------

    def touch(self, step: StepRun) -> None:
        self.dirty_steps.add(step.node_id)
        self.events.append(
            {
                "type": "step_update",
                "data": {
                    "node_id": step.node_id,
                    "status": step.status,
                    "attempt": step.attempt,
                    "error": step.error,
                },
            }
        )

    def log(self, level: str, message: str, *, node_id: str = "", data: Any = None) -> None:
        self.logs.append(
            ExecutionLog(execution=self.execution, node_id=node_id, level=level, message=message[:10_000], data=data)
        )

    def later(self, callback: Callable[[], object]) -> None:
        self.after_commit.append(callback)

    def step_views(self, node_ids: set[str]) -> dict[str, dict[str, Any]]:
        """What expressions see of these steps (output, status, error, ports); missing outputs in one query."""
        missing = [n for n in node_ids if n not in self.outputs and self.steps[n].status in StepRun.FINISHED]
        if missing:
            self.outputs.update(node_context.load_outputs(self.execution.pk, missing))
        views = {}
        for node_id in node_ids:
            step = self.steps[node_id]
            output = self.outputs.get(node_id, {}).get("output")
            views[node_id] = {"output": output, "status": step.status, "error": step.error, "ports": step.ports}
        return views

    def step_view(self, node_id: str) -> dict[str, Any]:
        return self.step_views({node_id})[node_id]

    def remember_output(self, step: StepRun) -> None:
        self.outputs[step.node_id] = {
            "output": step.output,
            "status": step.status,
            "error": step.error,
            "ports": step.ports,
        }


def load_run(execution_id: Any) -> Run | None:
    """Lock the execution and load its steps (outputs are loaded only when read)."""
    # The input is read only when an inline node's expressions need it; the output never.
    execution = Execution.objects.select_for_update().defer("input_data", "output_data").filter(pk=execution_id).first()
    if execution is None:
        return None
    steps = {s.node_id: s for s in StepRun.objects.filter(execution=execution).defer("output", "state")}
    return Run(
        execution=execution, graph=graph_for_version(execution.workflow_version_id), steps=steps, now=timezone.now()
    )


def save_run(run: Run) -> None:
    """Write what changed, then (after commit) queue work and publish events."""
    execution = run.execution
    _save_steps([run.steps[node_id] for node_id in run.dirty_steps])
    if run.logs:
        ExecutionLog.objects.bulk_create(run.logs)
    _update_progress(run)
    first_seq = execution.event_seq + 1
    execution.event_seq += len(run.events) + len(run.logs) + 1
    fields = EXECUTION_STATE_FIELDS if execution.is_finished else RUNNING_STATE_FIELDS
    execution.save(update_fields=fields)
    events = [*run.events, *(_log_event(entry) for entry in run.logs), {"type": _execution_event_type(execution)}]
    callbacks = list(run.after_commit)
    snapshot = broadcast.execution_snapshot(execution)

    def after_commit() -> None:
        broadcast.publish(snapshot, events, first_seq=first_seq)
        for callback in callbacks:
            callback()

    transaction.on_commit(after_commit)


STEP_STATE_FIELDS = [
    "status",
    "attempt",
    "error",
    "ports",
    "queued_at",
    "started_at",
    "completed_at",
    "lease_expires_at",
    "next_attempt_at",
    "wake_at",
]


def _save_steps(steps: list[StepRun]) -> None:
    """Write the steps that changed, in one round trip per set of fields.

    One parameterised UPDATE run with executemany (pipelined by psycopg):
    Django's bulk_update builds a CASE per field and row, which cost more
    than the writes themselves for a 40-step inline chain. Outputs and state
    are written only where they were loaded or set.
    """
    groups: dict[tuple[str, ...], list[StepRun]] = {}
    for step in steps:
        deferred = step.get_deferred_fields()
        extra = tuple(f for f in ("output", "state") if f not in deferred)
        groups.setdefault(extra, []).append(step)
    quote = connection.ops.quote_name
    for extra, group in groups.items():
        fields = [cast("Field[Any, Any]", StepRun._meta.get_field(name)) for name in (*STEP_STATE_FIELDS, *extra)]
        assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
        sql = f"UPDATE {quote(StepRun._meta.db_table)} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608 (names from the model)
        params = [
            [f.get_db_prep_save(getattr(step, f.attname), connection) for f in fields] + [step.pk] for step in group
        ]
        with connection.cursor() as cursor:
            cursor.executemany(sql, params)


def _log_event(entry: ExecutionLog) -> dict[str, Any]:
    return {"type": "log", "data": {"node_id": entry.node_id, "level": entry.level, "message": entry.message}}


def _execution_event_type(execution: Execution) -> str:
    if execution.status == Execution.Status.COMPLETED:
        return "execution_completed"
    if execution.is_finished:
        return "execution_failed"
    return "execution_update"


def _update_progress(run: Run) -> None:
    reachable = _reachable(run.graph)
    finished = sum(1 for node_id in reachable if run.steps[node_id].status in StepRun.FINISHED)
    execution = run.execution
    execution.progress = 100 if execution.status == Execution.Status.COMPLETED else int(100 * finished / len(reachable))
    active = [s for s in run.steps.values() if s.status in (StepRun.Status.RUNNING, StepRun.Status.WAITING)]
    queued = [s for s in run.steps.values() if s.status == StepRun.Status.PENDING and s.queued_at]
    current = active or queued
    execution.current_step = "" if execution.is_finished else ",".join(sorted(s.node_id for s in current))[:64]


def _reachable(graph: Graph) -> tuple[str, ...]:
    return graph.execution_order


# --- starting ------------------------------------------------------------------------


def start_execution(execution_id: Any) -> None:
    """Run the trigger and whatever inline nodes follow; queue the first dispatched steps.

    Does nothing for an execution that is not queued (a duplicate delivery).
    """
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.status != Execution.Status.QUEUED:
            return
        execution = run.execution
        if execution.deadline and execution.deadline <= run.now:
            _finish(run, Execution.Status.TIMED_OUT, {"message": "The run timed out before it started"})
            save_run(run)
            return
        execution.status = Execution.Status.RUNNING
        execution.started_at = run.now
        run.log("info", f"Run started ({execution.trigger}, {execution.mode})")
        trigger = run.steps[run.graph.trigger.id]
        if trigger.status == StepRun.Status.PENDING:  # a retry reuses the trigger's result
            _run_inline(run, trigger)
        _advance_and_save(run)


# --- the decision loop -------------------------------------------------------------


def _readiness(run: Run, node: Node) -> Readiness:
    incoming = run.graph.incoming[node.id]
    if not incoming:
        return WAIT  # the trigger runs at start; nodes nothing leads to never run
    resolved = taken = 0
    for edge in incoming:
        source = run.steps[edge.source]
        if source.status in StepRun.FINISHED:
            resolved += 1
            if edge.source_port in (source.ports or ()):
                taken += 1
    join_rule = node_context.node_type_of(node).joins
    if join_rule is not None:
        return join_rule(node.config, Inbound(total=len(incoming), resolved=resolved, taken=taken))
    # Airflow's none_failed_min_one_success, what users of n8n and Windmill expect after an IF: a node
    # that several edges lead to runs once every one of them is decided and at least one was taken, so
    # the two sides of a condition can meet again without a merge. A single-input chain skips as before.
    if resolved < len(incoming):
        return WAIT
    return RUN if taken else SKIP


def _advance(run: Run) -> None:
    """Skip, run inline or queue every node that became decidable, until nothing changes."""
    if run.execution.is_finished:
        return
    order = _reachable(run.graph)
    changed = True
    while changed and not run.execution.is_finished:
        changed = False
        for node_id in order:
            step = run.steps[node_id]
            if step.status != StepRun.Status.PENDING or step.queued_at is not None:
                continue
            node = run.graph.nodes[node_id]
            decision = _readiness(run, node)
            if decision == WAIT:
                continue
            changed = True
            if decision == SKIP:
                _skip(run, step)
            elif node.disabled:
                _skip(run, step, ports=_default_ports(node), reason="disabled")
            elif node_context.node_type_of(node).inline:
                _run_inline(run, step)
            else:
                _queue(run, step)
            if run.execution.is_finished:
                return
    _maybe_finish(run)


def _default_ports(node: Node) -> list[str]:
    node_type = node_context.node_type_of(node)
    ports = node_type.output_ports(node.config)
    return list(ports[:1]) if len(ports) > 1 and node_type.dynamic_outputs is None else list(ports)


def _skip(run: Run, step: StepRun, *, ports: list[str] | None = None, reason: str = "branch not taken") -> None:
    step.status = StepRun.Status.SKIPPED
    step.ports = ports or []
    step.completed_at = run.now
    step.error = None
    run.outputs[step.node_id] = {"output": None, "status": step.status, "error": None}
    if reason == "disabled":
        step.output = None
    run.touch(step)


def _queue(run: Run, step: StepRun) -> None:
    step.queued_at = run.now
    run.touch(step)
    step_id = step.pk
    run.later(lambda: dispatcher().run_step(step_id))


def _node_context(run: Run, step: StepRun, node: Node, config: dict[str, Any], ctx: dict[str, Any]) -> NodeContext:
    execution = run.execution
    views = run.step_views({edge.source for edge in run.graph.incoming[node.id]})
    step_id = step.pk
    return NodeContext(
        execution_id=str(execution.pk),
        workflow_id=str(execution.workflow_id),
        owner_id=execution.owner_id,
        node_id=node.id,
        node_type=node_context.node_type_of(node),
        config=config,
        expression_context=ctx,
        attempt=step.attempt,
        dry_run=execution.mode == Execution.Mode.DRY_RUN,
        timeout=node.timeout_seconds,
        state=dict(step.state) if "state" not in step.get_deferred_fields() else {},
        inputs=node_context.taken_inputs(run.graph, node, views),
        child_results=lambda: node_context.child_results(step_id),
    )


def _context_for(run: Run, node: Node) -> dict[str, Any]:
    node_type = node_context.node_type_of(node)
    steps = run.step_views(node_context.needed_steps(run.graph, node, node_type))
    return node_context.expression_context(run.execution, run.graph, steps)


def _run_inline(run: Run, step: StepRun) -> None:
    """Execute a pure node now, in this transaction."""
    node = run.graph.nodes[step.node_id]
    step.attempt += 1
    step.started_at = timezone.now()
    step.status = StepRun.Status.RUNNING

    def build(node_type: NodeType) -> NodeContext:
        ctx_data = _context_for(run, node)
        config = node_context.render_config(node, node_type, ctx_data)
        return _node_context(run, step, node, config, ctx_data)

    _apply_outcome(run, step, attempt(node, build, retries=False, label=f"Inline node {node.id}"))


# --- one attempt of a node --------------------------------------------------------------


def attempt(
    node: Node,
    build: Callable[[NodeType], NodeContext],
    *,
    retries: bool,
    resume: dict[str, Any] | None = None,
    around: Callable[[], AbstractContextManager[object]] = nullcontext,
    label: str,
) -> Outcome:
    """Run one attempt of ``node`` and answer its outcome; never raises.

    The one place a node's code is called, for dispatched steps, inline nodes and resumed waits
    alike: ``build`` renders the config and makes the node's context, the credential is attached,
    ``execute`` (or ``resume`` with ``resume`` as ``ctx.resume``) runs inside ``around`` (a dispatched
    step holds its lease there). A ``NodeError`` is the step's failure as the user sees it; anything
    else is a bug in the node and fails the step too, logged (without a traceback when the step holds
    a credential). The node's log lines are kept either way. Only ``retries`` attempts may be retried
    by the node's policy (inline and resumed ones run in the run's transaction and are not).
    """
    ctx: NodeContext | None = None
    resolved: credentials.ResolvedCredential | None = None
    try:
        node_type = node_context.node_type_of(node)
        ctx = build(node_type)
        if resume is not None:
            ctx.resume = resume
        resolved = credentials.attach(ctx)
        call = node_type.execute if resume is None else node_type.resume
        if call is None:
            verb = "run" if resume is None else "resume"
            raise NodeError(f"Node type '{node.type}' cannot {verb}", retryable=False)
        with around():
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


def _log_node_exception(message: str, resolved: credentials.ResolvedCredential | None) -> None:
    # A traceback may quote the node's secrets; a step with a credential logs only that it failed.
    if resolved is None:
        logger.exception(message)
    else:
        logger.error("%s (traceback withheld: the step used a credential)", message)


# --- results --------------------------------------------------------------------------


def _apply_outcome(run: Run, step: StepRun, outcome: Outcome) -> None:
    outcome = _redacted(outcome)
    for level, message, data in outcome.logs:
        run.log(level, message, node_id=step.node_id, data=data)
    if outcome.error is not None:
        _fail_step(run, step, outcome.error, retryable=outcome.retryable, data=outcome.error_data)
        return
    result = outcome.result or NodeResult()
    if result.wait is not None:
        _wait(run, step, result.wait)
        return
    problem = node_context.output_size_error(result.output)
    if problem:
        _fail_step(run, step, problem, retryable=False)
        return
    node = run.graph.nodes[step.node_id]
    step.status = StepRun.Status.COMPLETED
    step.output = result.output
    step.ports = list(result.ports) if result.ports is not None else _default_ports(node)
    step.error = None
    step.completed_at = timezone.now()
    step.lease_expires_at = None
    step.next_attempt_at = step.wake_at = None
    run.remember_output(step)
    run.touch(step)
    if result.detached_children:
        _start_children(run, step, result.detached_children, detached=True)


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


def _fail_step(run: Run, step: StepRun, message: str, *, retryable: bool, data: Any = None) -> None:
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
        )
        if delay <= settings.FLOWBUILDER_MAX_COUNTDOWN_SECONDS:
            step_id = step.pk
            run.later(lambda: dispatcher().run_step(step_id, countdown=delay))
        return
    step.status = StepRun.Status.FAILED
    step.error = error
    step.completed_at = timezone.now()
    step.lease_expires_at = step.next_attempt_at = step.wake_at = None
    run.log("error", f"Step failed: {message}", node_id=node.id)
    policy = node.on_error or run.graph.settings.get("on_error") or "stop"
    if policy == "error_port":
        step.ports = ["error"]
        step.output = {"error": message}
    elif policy == "continue":
        step.ports = _default_ports(node)
        step.output = None
    else:
        step.ports = []
    run.remember_output(step)
    run.touch(step)
    if policy == "stop":
        _finish(run, Execution.Status.FAILED, {"message": message, "node_id": node.id})


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
        _start_children(run, step, wait.children)


def send_start(execution_id: Any) -> None:
    """Queue a run's start (after commit: the rows are the outbox, the sweep resends a lost message)."""
    dispatcher().start_execution(execution_id)


def _start_children(run: Run, step: StepRun, children: tuple[ChildRun, ...], *, detached: bool = False) -> None:
    depth, parent_id = 1, run.execution.parent_id
    while parent_id is not None:
        depth += 1
        parent_id = Execution.objects.filter(pk=parent_id).values_list("parent_id", flat=True).first()
    if depth >= settings.FLOWBUILDER_MAX_WORKFLOW_DEPTH:
        limit = settings.FLOWBUILDER_MAX_WORKFLOW_DEPTH
        _fail_step(run, step, f"Sub-workflows nest deeper than {limit} levels", retryable=False)
        return
    for child in children:
        try:
            created = child_runs.create_child(parent=run.execution, parent_step=None if detached else step, child=child)
        except NodeError as exc:
            _fail_step(run, step, exc.message, retryable=False)
            return
        run.log("info", f"Started child run {created.pk}", node_id=step.node_id, data={"execution_id": str(created.pk)})
        child_id = created.pk
        run.later(partial(send_start, child_id))


# --- finishing ----------------------------------------------------------------------


def _maybe_finish(run: Run) -> None:
    if run.execution.is_finished:
        return
    reachable = _reachable(run.graph)
    if all(run.steps[node_id].status in StepRun.FINISHED for node_id in reachable):
        _finish(run, Execution.Status.COMPLETED)
        return
    steps = [run.steps[node_id] for node_id in reachable]
    active = any(
        s.status in (StepRun.Status.RUNNING, StepRun.Status.RETRYING)
        or (s.status == StepRun.Status.PENDING and s.queued_at)
        for s in steps
    )
    waiting = any(s.status == StepRun.Status.WAITING for s in steps)
    run.execution.status = Execution.Status.WAITING if waiting and not active else Execution.Status.RUNNING


def _final_output(run: Run) -> Any:
    graph = run.graph
    outputs = [
        n
        for n in graph.nodes.values()
        if node_context.node_type_of(n).sets_output and run.steps[n.id].status == StepRun.Status.COMPLETED
    ]
    leaves = [
        n.id
        for n in graph.nodes.values()
        if not graph.outgoing[n.id] and run.steps[n.id].status == StepRun.Status.COMPLETED and n.id in _reachable(graph)
    ]
    wanted = [n.id for n in outputs] or leaves
    values = {node_id: run.step_view(node_id)["output"] for node_id in wanted}
    if outputs and len(outputs) == 1:
        return values[outputs[0].id]
    return values


def _finish(run: Run, status: str, error: dict[str, Any] | None = None) -> None:
    """End the run: cancel what has not finished, set the output, tell whoever waits."""
    execution = run.execution
    now = timezone.now()
    for step in run.steps.values():
        if step.status not in StepRun.FINISHED:
            step.status = StepRun.Status.CANCELLED
            step.completed_at = now
            step.lease_expires_at = step.next_attempt_at = step.wake_at = None
            run.touch(step)
    execution.status = status
    execution.completed_at = now
    execution.error = error
    if status == Execution.Status.COMPLETED:
        execution.output_data = _final_output(run)
        problem = node_context.output_size_error(execution.output_data)
        if problem:
            execution.status = Execution.Status.FAILED
            execution.output_data = None
            execution.error = {"message": problem}
    duration = (now - execution.started_at).total_seconds() if execution.started_at else 0
    run.log(
        "info" if execution.status == Execution.Status.COMPLETED else "error",
        f"Run {execution.status} after {duration:.3f}s",
    )
    if status != Execution.Status.COMPLETED:  # a run that succeeded has no children left running
        children = Execution.objects.filter(parent=execution, status__in=Execution.ACTIVE).values_list("pk", flat=True)
        for child_id in children:
            run.later(partial(cancel_execution, child_id, reason="The parent run ended"))
    execution_id = execution.pk
    if execution.parent_step_id:
        run.later(lambda: dispatcher().child_finished(execution_id))
    # Runs may be held behind this one: by max_concurrency, or by a schedule's overlap: queue.
    queued_schedule = (
        execution.trigger == Execution.Trigger.SCHEDULE and run.graph.trigger.config.get("overlap") == "queue"
    )
    if run.graph.settings.get("max_concurrency") or queued_schedule:
        run.later(lambda: dispatcher().execution_finished(execution_id))
    run.later(lambda: execution_finished_signal.send(sender=Execution, execution=execution))


# --- dispatched steps: claim, execute, record ----------------------------------------------


def claim_step(step_id: int) -> tuple[StepRun, int] | None:
    """Take a queued step for this worker; None if it is not runnable (a duplicate delivery, cancelled, done).

    One conditional UPDATE decides who wins, so two deliveries never both run it.
    """
    now = timezone.now()
    lease = now + timedelta(seconds=settings.FLOWBUILDER_STEP_LEASE_SECONDS)
    with transaction.atomic():
        # A claim lost in a database crash only sends the step back to the
        # sweep, which runs it again: no need to wait for this commit's fsync.
        _skip_fsync()
        # A finished run has no pending steps (finishing cancels them), so the
        # step's own status is enough: no join with the execution.
        claimed = (
            StepRun.objects.filter(
                pk=step_id,
                status__in=[StepRun.Status.PENDING, StepRun.Status.RETRYING],
                queued_at__isnull=False,
            )
            .exclude(next_attempt_at__gt=now + timedelta(seconds=1))
            .update(
                status=StepRun.Status.RUNNING,
                attempt=F("attempt") + 1,
                started_at=now,
                lease_expires_at=lease,
                worker=WORKER_NAME,
                next_attempt_at=None,
            )
        )
    if not claimed:
        return None
    step = (
        StepRun.objects.select_related("execution").defer("output", "state", "execution__output_data").get(pk=step_id)
    )
    _announce_running(step)
    return step, step.attempt


def _announce_running(step: StepRun) -> None:
    """Tell live clients a dispatched step started, with the next sequence number of its run."""
    table = connection.ops.quote_name(Execution._meta.db_table)
    with transaction.atomic():
        _skip_fsync()  # losing this in a crash loses a live event, nothing else
        with connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {table} SET event_seq = event_seq + 1 WHERE id = %s RETURNING event_seq",  # noqa: S608
                [Execution._meta.pk.get_db_prep_value(step.execution_id, connection)],
            )
            (seq,) = cursor.fetchone()
    snapshot = {**broadcast.execution_snapshot(step.execution), "current_step": step.node_id}
    event = {"type": "step_update", "data": {"node_id": step.node_id, "status": step.status, "attempt": step.attempt}}
    broadcast.publish(snapshot, [event], first_seq=seq)


def _skip_fsync() -> None:
    """Commit this transaction without waiting for the WAL flush (PostgreSQL; a no-op elsewhere)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL synchronous_commit TO OFF")


def execute_step(step_id: int) -> None:
    """Run one dispatched step end to end: claim, render, execute, record."""
    from executions.engine.leases import holding_lease

    claimed = claim_step(step_id)
    if claimed is None:
        return
    step, attempt_number = claimed
    execution = step.execution
    graph = graph_for_version(execution.workflow_version_id)
    node = graph.nodes[step.node_id]

    def build(node_type: NodeType) -> NodeContext:
        views = node_context.load_outputs(execution.pk, node_context.needed_steps(graph, node, node_type))
        ctx_data = node_context.expression_context(execution, graph, views)
        config = node_context.render_config(node, node_type, ctx_data)
        ctx = _node_context_for_worker(execution, step, node, node_type, config, ctx_data)
        ctx.inputs = node_context.taken_inputs(graph, node, views)
        return ctx

    outcome = attempt(
        node,
        build,
        retries=True,
        around=partial(holding_lease, step.pk, attempt_number),
        label=f"Step {step.pk} ({node.id})",
    )
    complete_step(step_id, attempt_number, outcome, execution_id=execution.pk)


def _node_context_for_worker(
    execution: Execution, step: StepRun, node: Node, node_type: Any, config: dict[str, Any], ctx_data: dict[str, Any]
) -> NodeContext:
    return NodeContext(
        execution_id=str(execution.pk),
        workflow_id=str(execution.workflow_id),
        owner_id=execution.owner_id,
        node_id=node.id,
        node_type=node_type,
        config=config,
        expression_context=ctx_data,
        attempt=step.attempt,
        dry_run=execution.mode == Execution.Mode.DRY_RUN,
        timeout=node.timeout_seconds,
    )


def _locked_step(step_id: int, *, execution_id: Any = None) -> tuple[Run, StepRun] | None:
    """The run of step ``step_id``, locked for this transaction, and the step in it; None when either is
    gone or the run has ended. Every change to a running run goes through here (or :func:`load_run`)."""
    if execution_id is None:
        execution_id = StepRun.objects.filter(pk=step_id).values_list("execution_id", flat=True).first()
    run = load_run(execution_id) if execution_id else None
    if run is None or run.execution.is_finished:
        return None
    step = next((s for s in run.steps.values() if s.pk == step_id), None)
    return (run, step) if step is not None else None


def _advance_and_save(run: Run) -> None:
    _advance(run)
    save_run(run)


def complete_step(step_id: int, attempt: int, outcome: Outcome, *, execution_id: Any = None) -> bool:
    """Record a dispatched step's result, once: a late or duplicate result is discarded.

    Answers whether the result was recorded.
    """
    with transaction.atomic():
        locked = _locked_step(step_id, execution_id=execution_id)
        if locked is None or locked[1].status != StepRun.Status.RUNNING or locked[1].attempt != attempt:
            logger.info("Discarding a late result of step %s attempt %s", step_id, attempt)
            return False
        run, step = locked
        _apply_outcome(run, step, outcome)
        _advance_and_save(run)
        return True


# --- waiting steps -------------------------------------------------------------------------


def resume_step(step_id: int, payload: dict[str, Any]) -> bool:
    """Hand a waiting step what it waited for (its wake time, a decision, a child's result).

    Answers False when the step is not waiting any more (already resumed, cancelled).
    """
    with transaction.atomic():
        locked = _locked_step(step_id)
        if locked is None or locked[1].status != StepRun.Status.WAITING:
            return False
        run, step = locked
        step.state = StepRun.objects.values_list("state", flat=True).get(pk=step_id)
        node = run.graph.nodes[step.node_id]

        def build(node_type: NodeType) -> NodeContext:
            ctx_data = _context_for(run, node)
            config = node_context.render_config(node, node_type, ctx_data)
            return _node_context(run, step, node, config, ctx_data)

        outcome = attempt(node, build, retries=False, resume=payload, label=f"Resuming {node.id}")
        if outcome.error is None and outcome.result and outcome.result.wait is None:
            step.wake_at = None
        _apply_outcome(run, step, outcome)
        _advance_and_save(run)
        return True


def wake_due_step(step_id: int) -> bool:
    """A waiting step whose time has come (delay over, approval expired)."""
    due = StepRun.objects.filter(pk=step_id, status=StepRun.Status.WAITING, wake_at__lte=timezone.now()).exists()
    return resume_step(step_id, {"woken": True}) if due else False


def child_finished(child_execution_id: Any) -> bool:
    """A child run ended: resume the step that waits for it."""
    child = (
        Execution.objects.filter(pk=child_execution_id)
        .values("parent_step_id", "status", "output_data", "error", "child_index")
        .first()
    )
    if child is None or child["parent_step_id"] is None:
        return False
    return resume_step(
        child["parent_step_id"],
        {
            "child": {
                "execution_id": str(child_execution_id),
                "index": child["child_index"],
                "status": child["status"],
                "output": child["output_data"],
                "error": child["error"],
            }
        },
    )


# --- cancelling and timing out --------------------------------------------------------------


def cancel_execution(execution_id: Any, *, reason: str = "Cancelled", status: str = Execution.Status.CANCELLED) -> bool:
    """Stop a run at any point: unfinished steps are cancelled, running ones' results discarded.

    Answers False when the run had already ended.
    """
    with transaction.atomic():
        run = load_run(execution_id)
        if run is None or run.execution.is_finished:
            return False
        run.log("warning", reason)
        _finish(run, status, {"message": reason})
        save_run(run)
        return True


def recover_lost_step(step_id: int, *, extra_attempts: int = 2) -> bool:
    """A running step whose lease ran out (its worker died): queue it again, or fail it when it keeps dying.

    Answers True when the step was queued again.
    """
    with transaction.atomic():
        locked = _locked_step(step_id)
        if locked is None:
            return False
        run, step = locked
        if step.status != StepRun.Status.RUNNING or not step.lease_expires_at or step.lease_expires_at > run.now:
            return False
        node = run.graph.nodes[step.node_id]
        allowed = int(node.retry.get("max_attempts", 1)) + extra_attempts
        if step.attempt >= allowed:
            _fail_step(run, step, f"The worker running this step was lost {step.attempt} times", retryable=False)
            requeued = False
        else:
            step.status = StepRun.Status.PENDING
            step.queued_at = run.now
            step.lease_expires_at = None
            run.log(
                "warning",
                f"The worker running attempt {step.attempt} was lost; running the step again",
                node_id=node.id,
            )
            run.touch(step)
            run.later(lambda: dispatcher().run_step(step_id))
            requeued = True
        _advance_and_save(run)
        return requeued
