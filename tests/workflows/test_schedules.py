"""Schedule triggers: validation at save, the beat entry kept in step, firing ticks, overlap, races.

Firing is tested by calling the beat task's function for a given moment; one
test in test_triggers_celery.py runs a real beat process.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, transaction
from django_celery_beat.models import CrontabSchedule, PeriodicTask

from executions.engine import recovery
from executions.models import Execution, ExecutionLog
from executions.services import execution_start
from tests.workflows.helpers import linear, node
from workflows.models import Workflow
from workflows.services import workflow_create, workflow_update
from workflows.triggers import schedule

pytestmark = pytest.mark.django_db

URL = "/api/v1/workflows"
PARIS = ZoneInfo("Europe/Paris")


def scheduled(cron: str = "0 9 * * 1-5", timezone: str = "Europe/Paris", **config):
    return linear(
        node("tick", "trigger.schedule", cron=cron, timezone=timezone, **config),
        node("out", "output", value="{{ input.scheduled_for }}"),
    )


@pytest.fixture
def make_schedule(user):
    def make(cron: str = "0 9 * * 1-5", timezone: str = "Europe/Paris", *, is_active: bool = True, **config):
        return workflow_create(
            owner=user, name="nightly", definition=scheduled(cron, timezone, **config), is_active=is_active
        )

    return make


def entry(workflow: Workflow) -> PeriodicTask:
    return PeriodicTask.objects.select_related("crontab").get(name=schedule.periodic_task_name(workflow.pk))


def at(*args: int, tz=PARIS) -> datetime:
    return datetime(*args, tzinfo=tz)


# --- bad input -----------------------------------------------------------------------------------


class TestValidation:
    def post(self, client, cron="0 9 * * *", timezone="Europe/Paris"):
        return client.post(URL, {"name": "s", "definition": scheduled(cron, timezone)}, format="json")

    @pytest.mark.parametrize("cron", ["61 * * * *", "every day", "* * * * * *", "0 9 * *", "", "0 25 * * *"])
    def test_malformed_cron_is_400_with_a_pointer(self, auth_client, cron):
        response = self.post(auth_client, cron=cron)
        assert response.status_code == 400, response.content
        details = response.json()["error"]["details"]
        assert "definition.nodes[0].config.cron" in {d["field"] for d in details}
        assert not Workflow.objects.exists()
        assert not PeriodicTask.objects.filter(name__startswith=schedule.TASK_PREFIX).exists()

    def test_a_cron_that_never_fires_is_400_with_a_pointer(self, auth_client):
        response = self.post(auth_client, cron="0 9 31 2 *")
        assert response.status_code == 400, response.content
        details = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
        assert "never fires" in details["definition.nodes[0].config.cron"]
        assert not Workflow.objects.exists()

    @pytest.mark.parametrize("timezone", ["Mars/Olympus", "CEST", "../../etc/passwd"])
    def test_unknown_timezone_is_400_with_a_pointer(self, auth_client, timezone):
        response = self.post(auth_client, timezone=timezone)
        assert response.status_code == 400
        details = response.json()["error"]["details"]
        assert [d["field"] for d in details] == ["definition.nodes[0].config.timezone"]
        assert "IANA" in details[0]["message"]

    def test_too_frequent_is_400_with_a_pointer(self, auth_client, settings):
        settings.FLOWBUILDER_SCHEDULE_MIN_INTERVAL_SECONDS = 300
        response = self.post(auth_client, cron="*/2 * * * *")
        assert response.status_code == 400
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == "definition.nodes[0].config.cron"
        assert "every 2 minutes" in detail["message"]
        assert "at most every 5 minutes" in detail["message"]
        # Two ticks a minute apart once a day are still too close.
        close = self.post(auth_client, cron="0,1 9 * * *")
        assert close.status_code == 400
        assert self.post(auth_client, cron="*/5 * * * *").status_code == 201
        assert self.post(auth_client, cron="0 9 * * *").status_code == 201

    def test_the_default_minimum_is_a_minute(self, auth_client):
        assert self.post(auth_client, cron="* * * * *").status_code == 201

    def test_editing_to_a_bad_cron_changes_nothing(self, auth_client, make_schedule):
        workflow = make_schedule("0 9 * * *")
        definition = scheduled("61 * * * *")
        response = auth_client.patch(f"{URL}/{workflow.pk}", {"definition": definition}, format="json")
        assert response.status_code == 400
        assert entry(workflow).crontab.minute == "0"

    def test_validate_endpoint_reports_it_too(self, auth_client):
        body = auth_client.post(f"{URL}/validate", {"definition": scheduled("every day")}, format="json").json()
        assert not body["valid"]
        assert body["errors"][0]["field"] == "definition.nodes[0].config.cron"


# --- the beat entry ----------------------------------------------------------------------------------


class TestPeriodicTaskSync:
    def test_created_with_a_timezone_aware_crontab(self, make_schedule):
        workflow = make_schedule("*/15 9-17 * * mon-fri", "Europe/Paris")
        task = entry(workflow)
        assert (task.task, task.args, task.enabled) == ("workflows.fire_schedule", f'["{workflow.pk}"]', True)
        crontab = task.crontab
        assert (crontab.minute, crontab.hour, crontab.day_of_week) == (
            "0,15,30,45",
            "9,10,11,12,13,14,15,16,17",
            "1,2,3,4,5",
        )
        assert (crontab.day_of_month, crontab.month_of_year, str(crontab.timezone)) == ("*", "*", "Europe/Paris")

    def test_editing_the_cron_updates_the_one_entry(self, make_schedule, user):
        workflow = make_schedule("0 9 * * *")
        before = entry(workflow)
        workflow_update(workflow=workflow, actor=user, definition=scheduled("30 18 * * *", "America/New_York"))
        after = entry(workflow)
        assert after.pk == before.pk
        assert (after.crontab.minute, after.crontab.hour, str(after.crontab.timezone)) == (
            "30",
            "18",
            "America/New_York",
        )
        assert PeriodicTask.objects.filter(name__startswith=schedule.TASK_PREFIX).count() == 1
        assert CrontabSchedule.objects.filter(periodictask__name__startswith=schedule.TASK_PREFIX).count() == 1

    def test_saving_again_leaves_beat_alone(self, make_schedule, user):
        workflow = make_schedule()
        changed = entry(workflow).date_changed
        workflow_update(workflow=workflow, actor=user, definition=scheduled(), category="x")
        assert entry(workflow).date_changed == changed

    def test_is_active_false_pauses_and_true_resumes(self, make_schedule, user, auth_client):
        workflow = make_schedule()
        response = auth_client.patch(f"{URL}/{workflow.pk}", {"is_active": False}, format="json")
        assert response.status_code == 200
        assert entry(workflow).enabled is False
        assert response.json()["trigger"]["next_run_at"] is None
        workflow_update(workflow=workflow, actor=user, is_active=True)
        task = entry(workflow)
        assert task.enabled is True
        assert task.last_run_at is None  # beat counts from the resume, not from before the pause

    def test_created_paused(self, make_schedule):
        assert entry(make_schedule(is_active=False)).enabled is False

    def test_another_trigger_removes_it(self, make_schedule, user):
        workflow = make_schedule()
        workflow_update(workflow=workflow, actor=user, definition=linear(node("s", "trigger.manual")))
        assert not PeriodicTask.objects.filter(name=schedule.periodic_task_name(workflow.pk)).exists()
        assert not CrontabSchedule.objects.exists()

    def test_deleting_the_workflow_removes_it(self, make_schedule, auth_client):
        workflow = make_schedule()
        assert auth_client.delete(f"{URL}/{workflow.pk}").status_code == 204
        assert not PeriodicTask.objects.filter(name__startswith=schedule.TASK_PREFIX).exists()
        assert not CrontabSchedule.objects.exists()

    def test_restoring_a_version_restores_its_schedule(self, make_schedule, user, auth_client):
        workflow = make_schedule("0 9 * * *")
        workflow_update(workflow=workflow, actor=user, definition=scheduled("0 21 * * *"))
        assert entry(workflow).crontab.hour == "21"
        assert auth_client.post(f"{URL}/{workflow.pk}/versions/1/restore").status_code == 200
        assert entry(workflow).crontab.hour == "9"

    def test_a_failed_save_writes_no_entry(self, user):
        from flowbuilder.api.errors import ValidationFailed

        with pytest.raises(ValidationFailed):
            workflow_create(owner=user, name="x", definition=scheduled("bad cron"))
        assert not PeriodicTask.objects.filter(name__startswith=schedule.TASK_PREFIX).exists()

    def test_beat_sees_the_entry_due_at_the_cron_times(self, make_schedule):
        """django-celery-beat's own schedule object says when the entry is due: at the next 5-minute mark, Paris time."""
        workflow = make_schedule("*/5 * * * *", "Europe/Paris")
        beat = entry(workflow).schedule
        last_run = at(2025, 6, 2, 10, 0, 30)
        last, delta, _ = beat.remaining_delta(last_run)
        assert (last + delta).astimezone(PARIS) == at(2025, 6, 2, 10, 5)
        due, _ = beat.is_due(datetime.now(UTC) - timedelta(minutes=6))
        assert due

    def test_day_fields_celery_cannot_express_wake_beat_daily(self, make_schedule):
        """Cron ORs a restricted day-of-month and day-of-week; Celery ANDs them: beat wakes daily, croniter picks."""
        crontab = entry(make_schedule("0 9 1 * 1")).crontab
        assert (crontab.minute, crontab.hour, crontab.day_of_month, crontab.day_of_week) == ("0", "9", "*", "*")


class TestTriggerSummary:
    def test_next_run_at_reckoned_in_the_schedule_zone_answered_in_utc(self, auth_client, make_schedule):
        workflow = make_schedule("0 9 * * *", "Asia/Tokyo")
        trigger = auth_client.get(f"{URL}/{workflow.pk}").json()["trigger"]
        assert (trigger["type"], trigger["cron"], trigger["timezone"]) == ("schedule", "0 9 * * *", "Asia/Tokyo")
        assert trigger["next_run_at"].endswith("Z")
        next_run = datetime.fromisoformat(trigger["next_run_at"])
        assert next_run.utcoffset() == timedelta(0)
        assert (next_run.hour, next_run.minute) == (0, 0)  # 09:00 in Tokyo
        assert timedelta(0) < next_run - datetime.now(UTC) <= timedelta(days=1)


# --- firing ----------------------------------------------------------------------------------------


class TestFire:
    def test_fires_the_most_recent_tick_not_now(self, make_schedule):
        workflow = make_schedule("*/15 * * * *", "Europe/Paris")
        result = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 16, 40))
        assert (result.outcome, result.tick) == ("started", at(2025, 6, 2, 10, 15))
        execution = Execution.objects.get()
        assert (execution.trigger, execution.scheduled_for) == ("schedule", at(2025, 6, 2, 10, 15))
        assert execution.input_data == {"scheduled_for": "2025-06-02T10:15:00+02:00"}
        assert execution.pk == result.execution_id

    def test_a_tick_fires_once(self, make_schedule):
        workflow = make_schedule("*/15 * * * *", overlap="allow")
        first = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 15, 0))
        again = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 29, 50))
        assert (first.outcome, again.outcome) == ("started", "already_fired")
        nxt = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 30, 1))
        assert nxt.outcome == "started"
        assert Execution.objects.count() == 2

    def test_a_wake_up_slightly_early_fires_that_tick(self, make_schedule):
        workflow = make_schedule("0 * * * *")
        result = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 9, 59, 58))
        assert result.tick == at(2025, 6, 2, 10, 0)

    def test_a_tick_older_than_the_grace_is_dropped(self, make_schedule, settings):
        settings.FLOWBUILDER_SCHEDULE_MISFIRE_GRACE_SECONDS = 600
        workflow = make_schedule("0 9 * * *")
        late = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 9, 11))
        assert (late.outcome, late.tick) == ("missed", at(2025, 6, 2, 9, 0))
        assert schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 9, 9)).outcome == "started"
        assert not Execution.objects.filter(scheduled_for=at(2025, 6, 1, 9, 0)).exists()

    def test_paused_deleted_and_changed_workflows(self, make_schedule, user):
        paused = make_schedule(is_active=False)
        assert schedule.schedule_fire(workflow_id=paused.pk, now=at(2025, 6, 2, 9, 0)).outcome == "paused"
        changed = make_schedule()
        workflow_update(workflow=changed, actor=user, definition=linear(node("s", "trigger.manual")))
        assert schedule.schedule_fire(workflow_id=changed.pk, now=at(2025, 6, 2, 9, 0)).outcome == "not_scheduled"
        gone = make_schedule()
        Workflow.objects.filter(pk=gone.pk).delete()  # e.g. its owner was deleted: no service ran
        assert schedule.schedule_fire(workflow_id=gone.pk).outcome == "gone"
        assert not PeriodicTask.objects.filter(name=schedule.periodic_task_name(gone.pk)).exists()
        assert not Execution.objects.exists()

    def test_the_task_takes_the_workflow_id(self, make_schedule):
        from workflows.tasks import fire_schedule

        workflow = make_schedule("* * * * *")
        assert fire_schedule.run(str(workflow.pk)) == "started"
        assert Execution.objects.get().trigger == "schedule"


class TestDst:
    """As cron defines it, in Europe/Paris: 2025-03-30 02:00 → 03:00, 2025-10-26 03:00 → 02:00."""

    def fire_all(self, workflow, start: datetime, end: datetime, step=timedelta(minutes=5)) -> list[datetime]:
        moment = start
        while moment <= end:
            schedule.schedule_fire(workflow_id=workflow.pk, now=moment)
            moment += step
        return [e.scheduled_for for e in Execution.objects.filter(workflow=workflow).order_by("scheduled_for")]

    def test_spring_forward_skipped_time_fires_once_after_the_jump(self, make_schedule):
        workflow = make_schedule("30 2 * * *", overlap="allow")
        fired = self.fire_all(workflow, datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 3, 30, 4, tzinfo=UTC))
        assert [t.astimezone(PARIS).isoformat() for t in fired] == ["2025-03-30T03:00:00+02:00"]

    def test_spring_forward_hourly_skips_the_missing_hour(self, make_schedule):
        workflow = make_schedule("0 * * * *", overlap="allow")
        fired = self.fire_all(workflow, datetime(2025, 3, 29, 23, tzinfo=UTC), datetime(2025, 3, 30, 2, tzinfo=UTC))
        assert [t.astimezone(PARIS).strftime("%H:%M%z") for t in fired] == [
            "00:00+0100",
            "01:00+0100",
            "03:00+0200",
            "04:00+0200",
        ]

    def test_fall_back_fixed_time_fires_once(self, make_schedule):
        workflow = make_schedule("30 2 * * *", overlap="allow")
        fired = self.fire_all(workflow, datetime(2025, 10, 25, 23, tzinfo=UTC), datetime(2025, 10, 26, 3, tzinfo=UTC))
        assert [t.astimezone(PARIS).isoformat() for t in fired] == ["2025-10-26T02:30:00+02:00"]

    def test_fall_back_hourly_fires_in_both_passes(self, make_schedule):
        workflow = make_schedule("0 * * * *", overlap="allow")
        fired = self.fire_all(workflow, datetime(2025, 10, 25, 23, tzinfo=UTC), datetime(2025, 10, 26, 2, tzinfo=UTC))
        assert [t.astimezone(PARIS).strftime("%H:%M%z") for t in fired] == [
            "01:00+0200",
            "02:00+0200",
            "02:00+0100",
            "03:00+0100",
        ]
        inputs = [e.input_data["scheduled_for"] for e in Execution.objects.order_by("scheduled_for")]
        assert inputs[1:3] == ["2025-10-26T02:00:00+02:00", "2025-10-26T02:00:00+01:00"]

    def test_beat_waking_late_on_spring_forward_still_fires_crons_tick(self, make_schedule):
        """Celery's crontab puts 02:30 of the spring-forward night at 03:30 CEST; cron (and the task) say 03:00."""
        workflow = make_schedule("30 2 * * *")
        beat = entry(workflow).schedule
        last, delta, _ = beat.remaining_delta(at(2025, 3, 29, 2, 30))
        wake = (last + delta).astimezone(UTC)
        assert wake.astimezone(PARIS).isoformat() == "2025-03-30T03:30:00+02:00"
        result = schedule.schedule_fire(workflow_id=workflow.pk, now=wake)
        assert (result.outcome, result.tick.astimezone(PARIS).isoformat()) == ("started", "2025-03-30T03:00:00+02:00")


class TestOverlap:
    def previous(self, workflow, status=Execution.Status.RUNNING) -> Execution:
        run = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 0))
        Execution.objects.filter(pk=run.execution_id).update(status=status)
        return Execution.objects.get(pk=run.execution_id)

    def test_skip_records_nothing_while_the_previous_runs(self, make_schedule, caplog):
        workflow = make_schedule("*/5 * * * *", overlap="skip")
        self.previous(workflow)
        with caplog.at_level("INFO", logger="workflows.triggers.schedule"):
            result = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 5))
        assert result.outcome == "skipped"
        assert "skipped" in caplog.text
        assert Execution.objects.count() == 1

    def test_skip_is_the_default_and_ignores_finished_runs(self, make_schedule):
        workflow = make_schedule("*/5 * * * *")
        self.previous(workflow, status=Execution.Status.COMPLETED)
        assert schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 5)).outcome == "started"

    def test_skip_ignores_manual_runs(self, make_schedule):
        workflow = make_schedule("*/5 * * * *")
        execution_start(workflow=workflow, input_data={})
        assert schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 5)).outcome == "started"

    def test_allow_starts_beside_it(self, make_schedule):
        workflow = make_schedule("*/5 * * * *", overlap="allow")
        self.previous(workflow)
        result = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 5))
        assert result.outcome == "started"
        assert Execution.objects.get(pk=result.execution_id).dispatched_at is not None

    def test_queue_holds_it_until_the_previous_ends(self, make_schedule):
        workflow = make_schedule("*/5 * * * *", overlap="queue")
        previous = self.previous(workflow)
        result = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 5))
        assert result.outcome == "held"
        held = Execution.objects.get(pk=result.execution_id)
        assert (held.status, held.dispatched_at) == ("queued", None)
        assert "overlap: queue" in ExecutionLog.objects.get(execution=held).message
        # A third tick queues behind it; still nothing may start.
        third = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 10))
        assert third.outcome == "held"
        assert recovery.start_held_runs(workflow.pk) == 0
        # The previous run ends: the oldest held run starts, and only it.
        Execution.objects.filter(pk=previous.pk).update(status=Execution.Status.COMPLETED)
        assert recovery.start_held_runs(workflow.pk) == 1
        held.refresh_from_db()
        assert held.dispatched_at is not None
        assert Execution.objects.get(pk=third.execution_id).dispatched_at is None
        assert recovery.start_held_runs(workflow.pk) == 0

    def test_queue_with_max_concurrency(self, user):
        definition = scheduled("*/5 * * * *", overlap="queue")
        definition["settings"] = {"max_concurrency": 1}
        workflow = workflow_create(owner=user, name="q", definition=definition)
        manual, _ = execution_start(workflow=workflow, input_data={})  # takes the one slot
        tick = schedule.schedule_fire(workflow_id=workflow.pk, now=at(2025, 6, 2, 10, 5))
        held = Execution.objects.get(pk=tick.execution_id)
        assert held.dispatched_at is None  # held by the concurrency limit
        Execution.objects.filter(pk=manual.pk).update(status=Execution.Status.COMPLETED)
        assert recovery.start_held_runs(workflow.pk) == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("no_dispatch")
class TestRaces:
    def test_schedulers_racing_for_one_tick_make_one_run(self, make_schedule):
        workflow = make_schedule("*/5 * * * *", overlap="allow")
        now = at(2025, 6, 2, 10, 5, 3)
        racers = 8
        barrier = threading.Barrier(racers)
        outcomes: list[str] = []
        errors: list[BaseException] = []

        def fire() -> None:
            try:
                barrier.wait()
                outcomes.append(schedule.schedule_fire(workflow_id=workflow.pk, now=now).outcome)
            except BaseException as exc:  # surfaced below
                errors.append(exc)
            finally:
                connection.close()

        threads = [threading.Thread(target=fire) for _ in range(racers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert not errors
        assert sorted(outcomes) == ["already_fired"] * (racers - 1) + ["started"]
        assert Execution.objects.filter(workflow=workflow).count() == 1

    def test_a_run_inserted_between_check_and_insert_is_already_fired(self, make_schedule):
        """Another process starts the tick's run without the workflow lock; the unique key still decides."""
        workflow = make_schedule("*/5 * * * *", overlap="allow")
        tick = at(2025, 6, 2, 10, 5)
        inserted, release, result = threading.Event(), threading.Event(), {}

        def other_process() -> None:
            try:
                with transaction.atomic():
                    execution_start(
                        workflow=workflow, input_data={}, trigger=Execution.Trigger.SCHEDULE, scheduled_for=tick
                    )
                    inserted.set()
                    release.wait(10)
            finally:
                connection.close()

        def firer() -> None:
            try:
                inserted.wait(10)
                result["fire"] = schedule.schedule_fire_tick(workflow=workflow, tick=tick)
            finally:
                connection.close()

        threads = [threading.Thread(target=other_process), threading.Thread(target=firer)]
        for thread in threads:
            thread.start()
        # The firer's check cannot see the uncommitted row; its insert waits on the unique index.
        threading.Timer(0.5, release.set).start()
        for thread in threads:
            thread.join()
        assert result["fire"].outcome == "already_fired"
        assert Execution.objects.filter(workflow=workflow, scheduled_for=tick).count() == 1
