"""A run held under its row lock (:class:`Run`), loaded and saved in as few statements as can be."""

from __future__ import annotations

import json
import logging
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Field

from executions import broadcast
from executions.engine import context as node_context
from executions.engine.definition import Graph, Node
from executions.engine.dispatch import dispatcher
from executions.engine.types import NodeResult
from executions.models import Execution, ExecutionLog, StepRun
from flowbuilder import clock
from workflows.models import WorkflowVersion

logger = logging.getLogger(__name__)
WORKER_NAME = f"{socket.gethostname()}"
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
STEP_STATE_FIELDS = [
    "status",
    "attempt",
    "worker_deaths",
    "error",
    "ports",
    "queued_at",
    "started_at",
    "completed_at",
    "lease_expires_at",
    "next_attempt_at",
    "wake_at",
    "worker",
]


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
    before_commit: list[Callable[[], object]] = field(default_factory=list)
    outputs: dict[str, dict[str, Any]] = field(default_factory=dict)
    queued: list[int] = field(default_factory=list)  # dispatched steps to send after commit

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
        """Call ``callback`` once the transaction commits (queue work, publish): lost if the process dies."""
        self.after_commit.append(callback)

    def dispatch(self, step: StepRun) -> None:
        """Send ``step`` to a worker once the transaction commits (unless this worker takes it: ``queued``)."""
        self.queued.append(step.pk)

    def in_transaction(self, callback: Callable[[], object]) -> None:
        """Call ``callback`` once the run's rows are written, before the commit: what it writes is durable with them."""
        self.before_commit.append(callback)

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

    @property
    def steps_by_pk(self) -> dict[int, StepRun]:
        return {step.pk: step for step in self.steps.values()}

    def step_view(self, node_id: str) -> dict[str, Any]:
        return self.step_views({node_id})[node_id]

    def remember_output(self, step: StepRun) -> None:
        self.outputs[step.node_id] = {
            "output": step.output,
            "status": step.status,
            "error": step.error,
            "ports": step.ports,
        }


def load_run(execution_id: Any = None, *, step_id: int | None = None, reuse: Run | None = None) -> Run | None:
    """Lock the execution (given, or that of step ``step_id``) and load its steps (outputs only when read).

    ``reuse`` is the run as this process last wrote it: when nobody changed the run since (its
    ``event_seq``, which every change bumps, is the one written), its steps and the outputs read
    are taken from it instead of being read again.
    """
    if execution_id is None:
        sql, key = _locking_select("(SELECT execution_id FROM {steps} WHERE id = %s)"), step_id
    else:
        sql, key = _locking_select("%s"), Execution._meta.pk.get_db_prep_value(execution_id, connection)
    execution = next(iter(Execution.objects.raw(sql, [key])), None)
    if execution is None:
        return None
    if reuse is not None and reuse.execution.event_seq == execution.event_seq:
        if "input_data" in reuse.execution.__dict__:
            execution.input_data = reuse.execution.input_data
        return Run(execution=execution, graph=reuse.graph, steps=reuse.steps, now=clock.now(), outputs=reuse.outputs)
    steps = {s.node_id: s for s in StepRun.objects.filter(execution=execution).defer("output", "state")}
    return Run(
        execution=execution, graph=graph_for_version(execution.workflow_version_id), steps=steps, now=clock.now()
    )


@lru_cache(maxsize=4)
def _locking_select(which: str) -> str:
    """The execution's row, locked: the SQL the ORM would build, built once (building it costs more
    than running it). The input is read only when an inline node's expressions need it; the output never."""
    quote = connection.ops.quote_name
    columns = ", ".join(
        quote(f.column) for f in Execution._meta.concrete_fields if f.name not in ("input_data", "output_data")
    )
    lock = " FOR UPDATE" if connection.features.has_select_for_update else ""
    which = which.format(steps=quote(StepRun._meta.db_table))
    return f"SELECT {columns} FROM {quote(Execution._meta.db_table)} WHERE {quote('id')} = {which}{lock}"  # noqa: S608 (names from the model)


def save_run(run: Run) -> None:
    """Write what changed (pipelined: one round trip), then (after commit) queue work and publish events."""
    execution = run.execution
    _update_progress(run)
    first_seq = execution.event_seq + 1
    execution.event_seq += len(run.events) + len(run.logs) + 1
    execution.updated_at = clock.now()
    fields = EXECUTION_STATE_FIELDS if execution.is_finished else RUNNING_STATE_FIELDS
    with pipelined():
        _save_steps([run.steps[node_id] for node_id in run.dirty_steps])
        _insert_logs(run.logs)
        # An UPDATE, not save(): a pipelined statement has no row count to check yet.
        Execution.objects.filter(pk=execution.pk).update(**{name: getattr(execution, name) for name in fields})
    for write in run.before_commit:
        write()
    run.before_commit.clear()
    events = [*run.events, *(_log_event(entry) for entry in run.logs), _execution_event(execution)]
    callbacks = list(run.after_commit)
    queued = list(run.queued)
    snapshot = broadcast.execution_snapshot(execution)
    run.dirty_steps.clear()
    run.events.clear()
    run.logs.clear()
    run.after_commit.clear()
    run.queued.clear()

    def after_commit() -> None:
        broadcast.publish(snapshot, events, first_seq=first_seq)
        for step_id in queued:
            dispatcher().run_step(step_id)
        for callback in callbacks:
            callback()

    transaction.on_commit(after_commit)


@contextmanager
def pipelined() -> Iterator[None]:
    """Send the statements inside without waiting for each one's answer (psycopg's pipeline mode).

    Only for statements whose results are not read: nothing inside may depend on a row count.
    """
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    with connection.connection.pipeline():
        yield


def _insert_logs(entries: list[ExecutionLog]) -> None:
    """Insert log lines in one statement, without reading their ids back (RETURNING would end the pipeline)."""
    if not entries:
        return
    quote = connection.ops.quote_name
    fields = [f for f in ExecutionLog._meta.concrete_fields if not f.primary_key]
    columns = ", ".join(quote(f.column) for f in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {quote(ExecutionLog._meta.db_table)} ({columns}) VALUES {', '.join([row] * len(entries))}"  # noqa: S608 (names from the model)
    params = [f.get_db_prep_save(f.pre_save(entry, True), connection) for entry in entries for f in fields]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


def _save_steps(steps: list[StepRun]) -> None:
    """Write the steps that changed, in one statement per set of fields.

    On PostgreSQL one ``UPDATE … FROM (VALUES …)`` for all the rows, which goes into the run's
    pipeline (an ``executemany`` would end it: psycopg syncs after one); elsewhere a parameterised
    UPDATE run with ``executemany``. Django's bulk_update builds a CASE per field and row, which
    cost more than the writes themselves for a 40-step inline chain. Outputs and state are written
    only where they were loaded or set.
    """
    groups: dict[tuple[str, ...], list[StepRun]] = {}
    for step in steps:
        deferred = step.get_deferred_fields()
        extra = tuple(f for f in ("output", "state") if f not in deferred)
        groups.setdefault(extra, []).append(step)
    quote = connection.ops.quote_name
    table = quote(StepRun._meta.db_table)
    for extra, group in groups.items():
        fields = [cast("Field[Any, Any]", StepRun._meta.get_field(name)) for name in (*STEP_STATE_FIELDS, *extra)]
        rows = [
            [step.pk, *(f.get_db_prep_save(getattr(step, f.attname), connection) for f in fields)] for step in group
        ]
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                columns = ", ".join(quote(f.column) for f in fields)
                typed = "(%s::bigint, " + ", ".join(f"%s::{f.db_type(connection)}" for f in fields) + ")"
                values = ", ".join([typed] * len(rows))
                assignments = ", ".join(f"{quote(f.column)} = v.{quote(f.column)}" for f in fields)
                cursor.execute(
                    f"UPDATE {table} AS t SET {assignments} FROM (VALUES {values}) AS v(id, {columns}) WHERE t.id = v.id",  # noqa: S608 (names from the model)
                    [value for row in rows for value in row],
                )
            else:
                assignments = ", ".join(f"{quote(f.column)} = %s" for f in fields)
                sql = f"UPDATE {table} SET {assignments} WHERE {quote('id')} = %s"  # noqa: S608 (names from the model)
                cursor.executemany(sql, [[*row[1:], row[0]] for row in rows])


def _log_event(entry: ExecutionLog) -> dict[str, Any]:
    return {"type": "log", "data": {"node_id": entry.node_id, "level": entry.level, "message": entry.message}}


def _execution_event(execution: Execution) -> dict[str, Any]:
    """The run's own message; the final one carries its output (completed) or error (failed), up to a size."""
    kind = _execution_event_type(execution)
    if kind == "execution_completed":
        return {"type": kind, "data": _bounded("output_data", execution.output_data)}
    if kind == "execution_failed":
        return {"type": kind, "data": _bounded("error", execution.error)}
    return {"type": kind}


def _bounded(key: str, value: Any) -> dict[str, Any]:
    """``{key: value, "truncated": False}``, or ``None`` and True past FLOWBUILDER_LIVE_MAX_VALUE_BYTES (REST has it whole)."""
    size = len(json.dumps(value, default=str).encode())
    if size > settings.FLOWBUILDER_LIVE_MAX_VALUE_BYTES:
        return {key: None, "truncated": True, "size_bytes": size}
    return {key: value, "truncated": False}


def _execution_event_type(execution: Execution) -> str:
    if execution.status == Execution.Status.COMPLETED:
        return "execution_completed"
    if execution.is_finished:
        return "execution_failed"
    return "execution_update"


def _update_progress(run: Run) -> None:
    reachable = reachable_nodes(run.graph)
    finished = sum(1 for node_id in reachable if run.steps[node_id].status in StepRun.FINISHED)
    execution = run.execution
    execution.progress = 100 if execution.status == Execution.Status.COMPLETED else int(100 * finished / len(reachable))
    active = [s for s in run.steps.values() if s.status in (StepRun.Status.RUNNING, StepRun.Status.WAITING)]
    queued = [s for s in run.steps.values() if s.status == StepRun.Status.PENDING and s.queued_at]
    current = active or queued
    execution.current_step = "" if execution.is_finished else ",".join(sorted(s.node_id for s in current))[:64]


def reachable_nodes(graph: Graph) -> tuple[str, ...]:
    return graph.execution_order


def default_ports(node: Node) -> list[str]:
    node_type = node_context.node_type_of(node)
    ports = node_type.output_ports(node.config)
    return list(ports[:1]) if len(ports) > 1 and node_type.dynamic_outputs is None else list(ports)


def locked_step(step_id: int, *, execution_id: Any = None, reuse: Run | None = None) -> tuple[Run, StepRun] | None:
    """The run of step ``step_id``, locked for this transaction, and the step in it; None when either is
    gone or the run has ended. Every change to a running run goes through here (or :func:`load_run`)."""
    run = load_run(execution_id, step_id=step_id, reuse=reuse)
    if run is None or run.execution.is_finished:
        return None
    step = next((s for s in run.steps.values() if s.pk == step_id), None)
    return (run, step) if step is not None else None
