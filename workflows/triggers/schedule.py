"""Schedule triggers: the django-celery-beat entry of each scheduled workflow, and firing a tick.

**Beat is only the alarm clock.** Each workflow whose trigger is
``trigger.schedule`` has exactly one ``PeriodicTask`` (named
``workflow-schedule:<id>``, with its own timezone-aware ``CrontabSchedule``)
that wakes :func:`workflows.tasks.fire_schedule`. The task does not trust the
moment it is woken: it computes the tick it fires for with croniter (the most
recent tick at or before now, in the workflow's time zone) and starts the run
with ``scheduled_for`` = that tick. ``Execution`` has a unique key on
(workflow, scheduled_for) for scheduled runs, so a tick makes at most one run
whatever the number of beat, web or worker processes, duplicate deliveries, or
wake-ups that Celery's crontab places differently from croniter (DST days,
day fields Celery cannot express: see :func:`executions.engine.cron.beat_fields`).

:func:`schedule_sync` is called by the workflow services in the transaction
that changes the workflow, so the entry always matches what was saved.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from executions.engine import cron
from executions.models import Execution
from executions.services import execution_start
from flowbuilder import clock
from workflows.models import Workflow
from workflows.triggers import trigger_config

logger = logging.getLogger(__name__)

FIRE_TASK = "workflows.fire_schedule"
TASK_PREFIX = "workflow-schedule:"
# Beat keeps its own clock: a wake-up a little before the tick (by the
# database's clock, flowbuilder/clock.py) still fires that tick.
CLOCK_SKEW = timedelta(seconds=5)


def periodic_task_name(workflow_id: Any) -> str:
    return f"{TASK_PREFIX}{workflow_id}"


def schedule_config(workflow: Workflow) -> dict[str, Any] | None:
    """The schedule trigger's config of the current definition, or None if the trigger is another kind."""
    return trigger_config(workflow, "trigger.schedule", {"timezone": "UTC", "overlap": "skip"})


# --- keeping beat in step with the workflows --------------------------------------------


def schedule_sync(*, workflow: Workflow) -> PeriodicTask | None:
    """Create, update, pause or remove the workflow's beat entry to match the workflow as saved.

    Call inside the transaction that saved the workflow (the definition was
    validated, so the cron and zone are good). Never creates a second entry:
    the entry is found by its unique name. A change of cron or time zone, or a
    resume, resets ``last_run_at`` so beat counts from now, not from a tick
    long past.
    """
    config = schedule_config(workflow)
    name = periodic_task_name(workflow.pk)
    task = PeriodicTask.objects.select_for_update().filter(name=name).first()
    if config is None:
        if task is not None:
            _delete(task)
        return None

    fields = cron.beat_fields(config["cron"])
    zone = cron.zone(config["timezone"])
    crontab = task.crontab if task is not None else None
    moved = (
        crontab is None
        or any(getattr(crontab, key) != value for key, value in fields.items())
        or str(crontab.timezone) != str(zone)
    )
    if crontab is None:
        crontab = CrontabSchedule.objects.create(timezone=zone, **fields)
    elif moved:
        for key, value in fields.items():
            setattr(crontab, key, value)
        crontab.timezone = zone
        crontab.save()

    wanted = {
        "crontab_id": crontab.pk,
        "interval_id": None,  # exactly one kind of schedule, whatever the admin did
        "solar_id": None,
        "clocked_id": None,
        "task": FIRE_TASK,
        "args": json.dumps([str(workflow.pk)]),
        "kwargs": "{}",
        "enabled": workflow.is_active,
        "description": f"Schedule of workflow '{workflow.name}' ({config['cron']}, {config['timezone']})"[:1000],
    }
    if task is None:
        task = PeriodicTask(name=name)
    elif not moved and all(getattr(task, key) == value for key, value in wanted.items()):
        return task  # unchanged: saving would make every beat reload its whole schedule
    resumed = workflow.is_active and not task.enabled
    for key, value in wanted.items():
        setattr(task, key, value)
    if moved or resumed:
        task.last_run_at = None  # beat then counts from date_changed: now
    task.save()  # PeriodicTask.save tells beat the schedule changed
    return task


def schedule_remove(*, workflow_id: Any) -> None:
    """Remove the workflow's beat entry (before the workflow is deleted)."""
    task = PeriodicTask.objects.select_related("crontab").filter(name=periodic_task_name(workflow_id)).first()
    if task is not None:
        _delete(task)


def _delete(task: PeriodicTask) -> None:
    crontab = task.crontab
    task.delete()  # the model's delete (not a queryset's) tells beat
    if crontab is not None and not PeriodicTask.objects.filter(crontab=crontab).exists():
        crontab.delete()


# --- firing ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class FireResult:
    """What a wake-up did: ``started``, ``held`` (overlap queue), ``skipped`` (overlap skip),
    ``already_fired``, ``missed`` (the tick is older than the grace), ``no_tick``, ``paused``, ``not_scheduled``,
    ``gone``."""

    outcome: str
    tick: datetime | None = None
    execution_id: Any = None


def schedule_fire(*, workflow_id: Any, now: datetime | None = None) -> FireResult:
    """Fire the tick that is due for ``workflow_id`` at ``now``: the most recent one at or before it.

    Idempotent: any number of calls for the same tick, from any number of
    processes, start at most one run. A tick older than
    FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS is dropped (beat was down, or
    the workflow was paused at the time).
    """
    now = now or clock.now()
    workflow = Workflow.objects.filter(pk=workflow_id).first()
    if workflow is None:  # deleted without the service (its owner was deleted): clean up the entry
        schedule_remove(workflow_id=workflow_id)
        return FireResult("gone")
    config = schedule_config(workflow)
    if config is None:
        return FireResult("not_scheduled")
    if not workflow.is_active:
        return FireResult("paused")
    try:
        tick = cron.previous_tick(config["cron"], config["timezone"], now + CLOCK_SKEW)
    except cron.CronError as exc:  # saved before validation was stricter
        logger.warning("Workflow %s has an unusable schedule: %s", workflow.pk, exc)
        return FireResult("no_tick")
    if tick is None:
        return FireResult("no_tick")
    if now - tick > timedelta(seconds=settings.FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS):
        if not Execution.objects.filter(
            workflow=workflow, trigger=Execution.Trigger.SCHEDULE, scheduled_for=tick
        ).exists():
            logger.info("Workflow %s: tick %s missed (now %s); not run late", workflow.pk, tick.isoformat(), now)
        return FireResult("missed", tick)
    return schedule_fire_tick(workflow=workflow, tick=tick)


@transaction.atomic
def schedule_fire_tick(*, workflow: Workflow, tick: datetime) -> FireResult:
    """Start the run of ``workflow`` for ``tick`` under its overlap policy, unless that tick already has one.

    The workflow's row lock orders concurrent firings (so two ticks cannot
    both see "nothing running" under ``skip``); the unique key on
    (workflow, scheduled_for) is what guarantees one run per tick.
    """
    # NO KEY UPDATE: serialises firings of this workflow without blocking the foreign-key checks
    # (KEY SHARE, deferred to commit) of transactions inserting its other runs meanwhile.
    locked = Workflow.objects.select_for_update(no_key=True).get(pk=workflow.pk)
    config = schedule_config(locked)
    if config is None or not locked.is_active:
        return FireResult("not_scheduled" if config is None else "paused", tick)
    scheduled = Execution.objects.filter(workflow=locked, trigger=Execution.Trigger.SCHEDULE, parent__isnull=True)
    if scheduled.filter(scheduled_for=tick).exists():
        return FireResult("already_fired", tick)

    overlap = config.get("overlap", "skip")
    previous = scheduled.filter(status__in=Execution.ACTIVE).order_by("created_at").first()
    hold_reason = None
    if previous is not None and overlap == "skip":
        logger.info(
            "Workflow %s: tick %s skipped, run %s is still %s",
            locked.pk,
            tick.isoformat(),
            previous.pk,
            previous.status,
        )
        return FireResult("skipped", tick)
    if previous is not None and overlap == "queue":
        hold_reason = f"Held: the scheduled run {previous.pk} is still {previous.status} (overlap: queue)"

    local = tick.astimezone(cron.zone(config["timezone"]))
    try:
        with transaction.atomic():
            execution, _ = execution_start(
                workflow=locked,
                input_data={"scheduled_for": local.isoformat()},
                trigger=Execution.Trigger.SCHEDULE,
                scheduled_for=tick,
                hold_reason=hold_reason,
            )
    except IntegrityError:  # another process fired this tick between our check and our insert
        return FireResult("already_fired", tick)
    return FireResult("held" if hold_reason else "started", tick, execution.pk)
