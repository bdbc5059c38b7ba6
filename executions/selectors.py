"""Execution reads: visibility, lists without N+1, a run's steps in definition order, waiting for a run.

Visibility follows workflows: a run is visible to whoever may see its workflow
(the owner, or a user it is shared with); every other run is a 404.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from asgiref.sync import async_to_sync, sync_to_async
from channels.layers import get_channel_layer
from django.db import connection
from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import User
from executions.broadcast import execution_group
from executions.models import Execution, ExecutionLog, StepRun
from flowbuilder import shedding
from flowbuilder.api.errors import NotFound
from flowbuilder.ids import parse_uuid
from workflows.access import permissions_on, require
from workflows.models import Workflow, WorkflowShare
from workflows.selectors import workflows_visible_to

# Large JSON the list never shows: the run's input and output, the definitions.
_LIST_DEFERRED = (
    "input_data",
    "output_data",
    "workflow__definition",
    "workflow_version__definition",
)

logger = logging.getLogger(__name__)
T = TypeVar("T")
WAIT_RECHECK_SECONDS = 1.0  # a waiting request asks the database at least this often, events or not
WAIT_FALLBACK_INTERVAL = 0.2  # how often it asks when the channel layer is unreachable


def executions_visible_to(user: User) -> QuerySet[Execution]:
    """Runs of the workflows ``user`` may see, each annotated with the user's ``share_role`` (or None)."""
    role = WorkflowShare.objects.filter(workflow=OuterRef("workflow_id"), user=user).values("role")[:1]
    return Execution.objects.filter(workflow__in=workflows_visible_to(user).values("pk")).annotate(
        share_role=Subquery(role)
    )


def execution_list(user: User, *, workflow: Workflow | None = None) -> QuerySet[Execution]:
    """Visible runs (of one workflow if given) with what a list item shows, in one query a page."""
    queryset = executions_visible_to(user).select_related("workflow", "workflow_version").defer(*_LIST_DEFERRED)
    if workflow is not None:
        queryset = queryset.filter(workflow=workflow)
    return queryset.order_by("-created_at")


def execution_get(user: User, execution_id: Any) -> Execution:
    """A visible run with its workflow, version and trigger user; raises NotFound otherwise (bad ids too)."""
    pk = parse_uuid(execution_id)
    execution = (
        executions_visible_to(user).select_related("workflow", "workflow_version", "triggered_by").filter(pk=pk).first()
        if pk
        else None
    )
    if execution is None:
        raise NotFound("Execution not found")
    return execution


def execution_by_id(execution_id: Any) -> Execution:
    """Any run (for staff, whose console shows every run); raises NotFound for a missing one or a bad id."""
    pk = parse_uuid(execution_id)
    execution = Execution.objects.only("pk", "workflow_id").filter(pk=pk).first() if pk else None
    if execution is None:
        raise NotFound("Execution not found")
    return execution


def execution_for(user: User, execution_id: Any, *, granted: frozenset[str], needed: str | None) -> Execution:
    """A run ``user`` may see, with ``.permissions`` on its workflow; NotFound when unseen, Forbidden without ``needed``.

    The twin of :func:`workflows.access.workflow_for`, and like it the one check every entry point makes.
    """
    execution = execution_get(user, execution_id)
    execution.permissions = permissions_on(user, execution.workflow, granted, execution.share_role)
    require(execution.permissions, needed)
    return execution


def execution_detail(execution_id: Any) -> Execution:
    """A run with what its detail shows, for a caller that already checked access (after a write)."""
    return Execution.objects.select_related("workflow", "workflow_version", "triggered_by").get(pk=execution_id)


def execution_steps(execution: Execution) -> list[StepRun]:
    """The run's steps ordered as the nodes of the version it ran (unknown ids last, by creation)."""
    nodes = (execution.workflow_version.definition or {}).get("nodes") or []
    position = {node.get("id"): index for index, node in enumerate(nodes)}
    steps = list(StepRun.objects.filter(execution=execution).order_by("id"))
    return sorted(steps, key=lambda step: position.get(step.node_id, len(position)))


def execution_logs(execution: Execution) -> QuerySet[ExecutionLog]:
    return ExecutionLog.objects.filter(execution=execution).order_by("id")


def wait_on_run(execution_id: Any, timeout: float, answer: Callable[[str], T | None]) -> T | None:
    """Ask ``answer(status)`` until it answers something or ``timeout`` seconds have passed (then None).

    The one wait for a run (a ``sync`` execute, a webhook waiting for its reply). It does not poll:
    it listens on the run's channel-layer group and asks again when the run published something
    (and at least every WAIT_RECHECK_SECONDS, for an event the layer lost), reading only the status
    each time (the input may be a megabyte). Between asks it holds no database connection, so
    requests waiting on long runs do not drain the pool. With the channel layer unreachable it
    falls back to asking every WAIT_FALLBACK_INTERVAL. Raises Execution.DoesNotExist if the run vanished.
    """
    status_of = Execution.objects.filter(pk=execution_id).values_list("status", flat=True)

    def ask() -> T | None:
        try:
            return answer(status_of.get())
        finally:
            if not connection.in_atomic_block:
                connection.close()  # back to the pool while this request waits

    found = ask()
    if found is not None or timeout <= 0:
        return found
    with shedding.waiting():  # a request waiting for a run does not count as busy
        return async_to_sync(_wait_for_events)(execution_group(execution_id), timeout, sync_to_async(ask))


async def _wait_for_events(group: str, timeout: float, ask: Callable[[], Awaitable[T | None]]) -> T | None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    layer = get_channel_layer()
    channel: str | None = None
    try:
        channel = await layer.new_channel()
        await layer.group_add(group, channel)
    except Exception:  # the channel layer is away: ask on a timer instead
        logger.warning("Waiting for %s without live events (channel layer unreachable)", group, exc_info=True)
        channel = None
    try:
        while True:
            found = await ask()  # first after subscribing: an end just before it is not missed
            remaining = deadline - loop.time()
            if found is not None or remaining <= 0:
                return found
            if channel is None:
                await asyncio.sleep(min(remaining, WAIT_FALLBACK_INTERVAL))
                continue
            try:
                await asyncio.wait_for(layer.receive(channel), min(remaining, WAIT_RECHECK_SECONDS))
            except TimeoutError:
                pass
            except Exception:
                logger.warning("Live events for %s stopped; asking on a timer", group, exc_info=True)
                channel = None
    finally:
        if channel is not None:
            with contextlib.suppress(Exception):
                await layer.group_discard(group, channel)


def execution_wait(execution_id: Any, timeout: float) -> Execution:
    """The run once it has finished, or as it is when ``timeout`` seconds have passed."""
    wait_on_run(execution_id, timeout, lambda status: True if status in Execution.FINISHED else None)
    return execution_detail(execution_id)


# --- live updates (executions/live) -------------------------------------------------------

ACTIVE_RUNS_LISTED = 50  # a workflow socket's first message lists at most this many active runs
ACTIVE_RUNS_TRACKED = 1000  # the seq of at most this many active runs is read when a socket connects


def execution_live_snapshot(execution_id: Any) -> dict[str, Any] | None:
    """A run's state as of one commit, and the ``seq`` of the last event that commit published; None if gone.

    One statement (the steps joined with their execution), so the steps, the
    status and the seq all come from the same committed state: the runner
    changes them, and ``event_seq``, in one transaction.
    """
    rows = list(
        StepRun.objects.filter(execution_id=execution_id)
        .order_by("id")  # created in definition order
        .values_list(
            "node_id",
            "status",
            "attempt",
            "execution__workflow_id",
            "execution__status",
            "execution__progress",
            "execution__current_step",
            "execution__event_seq",
        )
    )
    if rows:
        _, _, _, workflow_id, status, progress, current_step, seq = rows[0]
    else:  # every run has steps; read the run alone rather than fail
        row = (
            Execution.objects.filter(pk=execution_id)
            .values_list("workflow_id", "status", "progress", "current_step", "event_seq")
            .first()
        )
        if row is None:
            return None
        workflow_id, status, progress, current_step, seq = row
    return {
        "execution_id": str(execution_id),
        "workflow_id": str(workflow_id),
        "status": status,
        "progress": progress,
        "current_step": current_step,
        "steps": [{"node_id": r[0], "status": r[1], "attempt": r[2]} for r in rows],
        "seq": seq,
    }


def workflow_active_runs(workflow_id: Any) -> list[dict[str, Any]]:
    """The workflow's queued, running and waiting runs, newest first (at most ACTIVE_RUNS_TRACKED)."""
    rows = (
        Execution.objects.filter(workflow_id=workflow_id, status__in=Execution.ACTIVE)
        .order_by("-created_at")
        .values_list("pk", "status", "progress", "current_step", "event_seq")[:ACTIVE_RUNS_TRACKED]
    )
    return [
        {"execution_id": str(pk), "status": status, "progress": progress, "current_step": step, "seq": seq}
        for pk, status, progress, step, seq in rows
    ]


def owner_active_run_seqs(user: User) -> dict[str, int]:
    """The last published seq of each active run ``user`` owns (at most ACTIVE_RUNS_TRACKED, newest first)."""
    rows = (
        Execution.objects.filter(owner=user, status__in=Execution.ACTIVE)
        .order_by("-created_at")
        .values_list("pk", "event_seq")[:ACTIVE_RUNS_TRACKED]
    )
    return {str(pk): seq for pk, seq in rows}


def execution_logs_after(
    execution_id: Any, after_id: int, *, level: str | None = None, node_id: str | None = None, limit: int = 500
) -> tuple[str | None, list[ExecutionLog]]:
    """The run's status, then up to ``limit`` of its log lines with ids above ``after_id``, oldest first.

    The status is read first: the runner writes a run's last lines in the
    transaction that ends it, so when it reads as finished, the lines that
    follow are all of them. The status is None when the run is gone.
    """
    status = Execution.objects.filter(pk=execution_id).values_list("status", flat=True).first()
    queryset = ExecutionLog.objects.filter(execution_id=execution_id, id__gt=after_id)
    if level:
        queryset = queryset.filter(level=level)
    if node_id:
        queryset = queryset.filter(node_id=node_id)
    return status, list(queryset.order_by("id")[:limit])
