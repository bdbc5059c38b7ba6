"""Execution writes: start (with idempotency and concurrency limits), cancel, retry, rerun, approvals, purge.

The execution row and all its step rows are written before anything is
queued, and the start is queued only after that transaction commits. Each
operator-visible write records its audit event in the same transaction
(``execution.started``, ``.cancelled``, ``.retried``, ``.rerun``,
``.approved``, ``.rejected``, ``executions.purged``); child runs of
sub-workflow and for_each steps are the engine's business and are not audited.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction

from accounts.models import User
from audit.services import audit_record
from executions.engine import runner
from executions.engine.children import current_version, input_problems, step_rows
from executions.engine.dispatch import dispatcher
from executions.errors import (
    ApprovalNotWaiting,
    ConcurrencyLimitReached,
    ExecutionFinished,
    ExecutionNotRetryable,
    GuestLiveRun,
    IdempotencyKeyReused,
    NotAnApprover,
)
from executions.models import Execution, ExecutionLog, StepRun
from executions.signals import execution_started
from flowbuilder import clock
from flowbuilder.api.errors import Forbidden, NotFound, ValidationFailed
from flowbuilder.batches import delete_in_batches
from integrations.net import check_destination
from workflows.access import workflow_for
from workflows.models import Workflow, WorkflowVersion


def child_workflow_for(owner: User, workflow_id: Any) -> Workflow | None:
    """The workflow a sub_workflow/for_each step names, when its run's owner may run it (the engine's access check)."""
    try:
        return workflow_for(owner, workflow_id, granted=None, needed="workflow:execute")
    except (NotFound, Forbidden):
        return None


def _queue_start(execution: Execution) -> None:
    execution_id = execution.pk
    transaction.on_commit(lambda: dispatcher().start_execution(execution_id))


@transaction.atomic
def execution_start(
    *,
    workflow: Workflow,
    input_data: Any,
    actor: User | None = None,
    trigger: str = Execution.Trigger.MANUAL,
    mode: str = Execution.Mode.LIVE,
    idempotency_key: str | None = None,
    webhook_url: str = "",
    scheduled_for: datetime | None = None,
    version: WorkflowVersion | None = None,
    retry_of: Execution | None = None,
    hold_reason: str | None = None,
    start_here: bool = False,
) -> tuple[Execution, bool]:
    """Create a run of ``workflow`` and queue it; answers (execution, created).

    With ``start_here`` (a caller that waits for the run: ``sync`` mode) the run starts in this
    transaction instead: its trigger and the inline nodes that follow run now, which saves a trip
    through the broker and a worker's task; only its dispatched steps are queued.

    With an ``idempotency_key`` already used on this workflow, answers the
    earlier run and creates nothing. Past ``settings.max_concurrency`` active
    runs, the ``reject`` policy raises RateLimited and ``queue`` holds the run
    until one ends. A ``hold_reason`` holds it whatever the limit (a schedule's
    ``overlap: queue``); :func:`executions.engine.recovery.start_held_runs`
    starts held runs when they may go. Raises ValidationFailed for input that
    breaks the manual trigger's ``input_schema`` and PayloadTooLarge over the
    input limit, and for a ``webhook_url`` the SSRF guard refuses (an internal
    address is refused now rather than as a failed delivery later). With
    ``scheduled_for``, a second run for the same tick raises IntegrityError (the
    caller's savepoint decides what that means). A null input is no input (``{}``).
    """
    if input_data is None:
        input_data = {}
    if mode == Execution.Mode.LIVE and workflow.owner.is_guest:
        # A guest's workflow never runs live, whoever or whatever starts it: asked for by the guest, it
        # is refused; started by its webhook or schedule, it runs as a dry run (side effects simulated).
        if trigger in (Execution.Trigger.MANUAL, Execution.Trigger.RETRY, Execution.Trigger.RERUN):
            raise GuestLiveRun("Guest sessions run workflows as dry runs only: POST /api/v1/test/execute/{id}")
        mode = Execution.Mode.DRY_RUN
        webhook_url = ""
    if webhook_url:
        check_destination(webhook_url, field="webhook_url")
    if idempotency_key:
        existing = Execution.objects.filter(workflow=workflow, idempotency_key=idempotency_key).first()
        if existing is not None:
            return _replayed(existing, input_data), False
    version = version or current_version(workflow)
    problems = input_problems(version.definition, input_data)
    if problems:
        raise ValidationFailed("input_data does not match the trigger's input schema", details=problems)

    settings_ = version.definition.get("settings") or {}
    limit = settings_.get("max_concurrency")
    held = hold_reason is not None
    if limit and not held:
        Workflow.objects.select_for_update().filter(pk=workflow.pk).exists()  # serialises the count below
        active = Execution.objects.filter(workflow=workflow, parent__isnull=True, status__in=Execution.ACTIVE).count()
        if active >= limit:
            if settings_.get("concurrency_policy", "queue") == "reject":
                raise ConcurrencyLimitReached(
                    f"The workflow already has {active} active runs (max_concurrency {limit})", retry_after=5
                )
            held = True
            hold_reason = f"Held: the workflow already has {limit} active runs"
    now = clock.now()
    timeout = settings_.get("timeout_seconds")
    execution = Execution(
        workflow=workflow,
        workflow_version=version,
        owner_id=workflow.owner_id,
        triggered_by=actor,
        trigger=trigger,
        mode=mode,
        input_data=input_data,
        idempotency_key=idempotency_key or None,
        webhook_url=webhook_url,
        scheduled_for=scheduled_for,
        retry_of=retry_of,
        deadline=now + timedelta(seconds=timeout) if timeout else None,
        dispatched_at=None if held else now,
    )
    if idempotency_key:
        try:
            with transaction.atomic():
                execution.save()
        except IntegrityError:  # a concurrent request with the same key won
            existing = Execution.objects.get(workflow=workflow, idempotency_key=idempotency_key)
            return _replayed(existing, input_data), False
    else:
        execution.save()
    steps = StepRun.objects.bulk_create(step_rows(execution, version.definition))
    # In this transaction, before the start is queued: what listeners record (outgoing events) is
    # stored with the run, and before anything it records of the run's end.
    execution_started.send(sender=Execution, execution=execution)
    if held:
        ExecutionLog.objects.create(execution=execution, message=hold_reason)
    elif start_here:
        runner.start_here(execution, steps)
    else:
        _queue_start(execution)
    audit_record(
        action="execution.started",
        obj=execution,
        object_repr=f"{workflow.name} (run)",
        actor=actor,
        changes={
            "workflow_id": str(workflow.pk),
            "version": version.number,
            "trigger": trigger,
            "mode": mode,
            "held": held,
            **({"retry_of": str(retry_of.pk)} if retry_of is not None else {}),
        },
    )
    return execution, True


def _replayed(existing: Execution, input_data: Any) -> Execution:
    """The run an Idempotency-Key already made, provided the request is the same one."""
    if existing.input_data != input_data:
        raise IdempotencyKeyReused(
            "This Idempotency-Key was already used with different input_data", field="Idempotency-Key"
        )
    return existing


@transaction.atomic
def execution_cancel(*, execution: Execution, reason: str = "Cancelled by a user") -> Execution:
    """Cancel a run that has not ended; raises Conflict (and records nothing) if it has."""
    if not runner.cancel_execution(execution.pk, reason=reason):
        execution.refresh_from_db(fields=["status"])
        raise ExecutionFinished(f"The run already ended ({execution.status})")
    execution.refresh_from_db()
    audit_record(action="execution.cancelled", obj=execution, changes={"reason": reason})
    return execution


@transaction.atomic
def execution_retry(*, execution: Execution, actor: User | None) -> Execution:
    """A new run from the failed steps of ``execution``: what succeeded is reused, not run again."""
    if execution.status not in (Execution.Status.FAILED, Execution.Status.CANCELLED, Execution.Status.TIMED_OUT):
        raise ExecutionNotRetryable(
            f"Only failed, cancelled or timed-out runs can be retried; this one is {execution.status}"
        )
    retry, _ = execution_start(
        workflow=execution.workflow,
        input_data=execution.input_data,
        actor=actor,
        trigger=Execution.Trigger.RETRY,
        mode=execution.mode,
        version=execution.workflow_version,
        retry_of=execution,
        webhook_url=execution.webhook_url,
    )
    kept = {s.node_id: s for s in StepRun.objects.filter(execution=execution, status=StepRun.Status.COMPLETED)}
    fresh = list(StepRun.objects.filter(execution=retry, node_id__in=kept))
    for step in fresh:
        old = kept[step.node_id]
        step.status, step.output, step.ports, step.attempt = old.status, old.output, old.ports, old.attempt
        step.started_at, step.completed_at = old.started_at, old.completed_at
    StepRun.objects.bulk_update(fresh, ["status", "output", "ports", "attempt", "started_at", "completed_at"])
    ExecutionLog.objects.create(
        execution=retry, level="info", message=f"Retry of run {execution.pk}: reusing {len(fresh)} succeeded step(s)"
    )
    audit_record(
        action="execution.retried",
        obj=execution,
        actor=actor,
        changes={"new_execution_id": str(retry.pk), "reused_steps": len(fresh)},
    )
    return retry


@transaction.atomic
def execution_rerun(*, execution: Execution, actor: User | None) -> Execution:
    """A fresh run of the workflow's current version with the same input."""
    rerun, _ = execution_start(
        workflow=execution.workflow,
        input_data=execution.input_data,
        actor=actor,
        trigger=Execution.Trigger.RERUN,
        mode=execution.mode,
        webhook_url=execution.webhook_url,
    )
    audit_record(action="execution.rerun", obj=execution, actor=actor, changes={"new_execution_id": str(rerun.pk)})
    return rerun


@transaction.atomic
def approval_decide(*, execution: Execution, node_id: str, actor: User, approved: bool, comment: str = "") -> Execution:
    """Approve or reject a waiting approval step; only its approvers (default: the owner) may."""
    step = StepRun.objects.filter(execution=execution, node_id=node_id).first()
    if step is None or step.node_type != "approval":
        raise NotFound(f"The run has no approval step '{node_id}'")
    if step.status != StepRun.Status.WAITING:
        raise ApprovalNotWaiting(f"The approval step is not waiting for a decision ({step.status})")
    approvers = [str(a).lower() for a in (step.state or {}).get("approvers") or []]
    allowed = {str(actor.pk).lower(), actor.email.lower()}
    if approvers and not allowed & set(approvers):
        raise NotAnApprover("You are not one of this step's approvers")
    if not approvers and actor.pk != execution.owner_id:
        raise NotAnApprover("Only the workflow's owner may decide this approval")
    decision = {"approved": approved, "by": actor.email, "comment": comment}
    if not runner.resume_step(step.pk, {"decision": decision}):
        raise ApprovalNotWaiting("The approval step is not waiting for a decision any more")
    execution.refresh_from_db()
    audit_record(
        action="execution.approved" if approved else "execution.rejected",
        obj=execution,
        actor=actor,
        changes={"node_id": node_id, "comment": comment},
    )
    return execution


def executions_purge(
    *, older_than: timedelta, dry_run: bool = False, batch_size: int = 500, now: datetime | None = None
) -> int:
    """Delete finished top-level runs created more than ``older_than`` ago, with their steps, logs and children.

    Runs still active are never touched, whatever their age. Deletes in
    batches (each its own transaction, so a large purge holds no long lock)
    and records one ``executions.purged`` audit event. Answers the number of
    top-level runs deleted (or that would be, with ``dry_run``).
    """
    cutoff = (now or clock.now()) - older_than
    expired = Execution.objects.filter(parent__isnull=True, created_at__lt=cutoff, status__in=Execution.FINISHED)
    if dry_run:
        return expired.count()
    # Children hang off their parent's row (and their steps off theirs): one cascade per batch.
    total = delete_in_batches(expired, batch_size=batch_size)
    if total:
        audit_record(
            action="executions.purged",
            object_type=Execution._meta.label_lower,
            changes={"deleted": total, "created_before": cutoff.isoformat()},
        )
    return total
