"""Triggers on real Celery workers over Redis and PostgreSQL: webhooks end to end, schedules fired by beat.

The webhook requests go through the real URL conf in the test thread while
the session's worker threads run the steps. One test starts a real
``celery beat`` process (django-celery-beat's DatabaseScheduler) against the
test database and waits for a minute boundary.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import quote

import pytest
from django.db import connection
from rest_framework.test import APIClient

from executions.models import Execution
from flowbuilder.celery import app
from integrations.services import credential_create
from tests.engine_fixtures import wait_finished, wait_for
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create
from workflows.tasks import fire_schedule
from workflows.triggers import schedule, webhook

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[2]
SECRET = b"whsec_e2e_0123456789"


@pytest.fixture
def make_workflow(user):
    def make(*nodes, **settings):
        definition = linear(*nodes)
        definition["settings"] = settings
        return workflow_create(owner=user, name="wf", definition=definition)

    return make


def hook(workflow) -> str:
    workflow.refresh_from_db()
    return f"/hooks/{workflow.webhook_token}"


class TestWebhooks:
    def test_immediately_answers_202_and_the_run_gets_the_request(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("hook", "trigger.webhook"),
            node("work", "test.flaky", value="{{ input.body.order.id }}"),
            node("out", "output", value={"id": "{{ steps.work.output.value }}", "q": "{{ input.query.src }}"}),
        )
        response = APIClient().post(
            f"{hook(workflow)}?src=shop", {"order": {"id": 7}}, format="json", HTTP_AUTHORIZATION="Bearer x"
        )
        assert response.status_code == 202, response.content
        execution = wait_finished(response.json()["execution_id"])
        assert (execution.status, execution.trigger, execution.output_data) == (
            "completed",
            "webhook",
            {"id": 7, "q": "shop"},
        )
        assert "authorization" not in execution.input_data["headers"]

    def test_when_done_answers_with_the_webhook_response_node(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("hook", "trigger.webhook", respond="when_done", response_timeout_seconds=20),
            node("work", "test.flaky", value="{{ input.body.n * 2 }}"),  # a dispatched step, on a worker
            node(
                "reply",
                "webhook_response",
                status=201,
                headers={"X-Result": "{{ steps.work.output.value | string }}", "Set-Cookie": "sessionid=evil"},
                body={"doubled": "{{ steps.work.output.value }}"},
            ),
            node("after", "test.slow", seconds=0.5),  # the run goes on after the answer
        )
        response = APIClient().post(hook(workflow), {"n": 21}, format="json")
        assert response.status_code == 201, response.content
        assert response.json() == {"doubled": 42}
        assert response["X-Result"] == "42"
        assert response["Content-Security-Policy"] == "sandbox"
        assert "Set-Cookie" not in response
        execution = wait_finished(response[webhook.EXECUTION_HEADER])
        assert execution.status == "completed"
        assert execution.steps.get(node_id="after").status == "completed"

    def test_when_done_text_body(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("hook", "trigger.webhook", method="GET", respond="when_done"),
            node("work", "test.flaky", value="{{ input.query.name }}"),
            node("reply", "webhook_response", body="hello {{ steps.work.output.value }}"),
        )
        response = APIClient().get(f"{hook(workflow)}?name=ada")
        assert (response.status_code, response.content) == (200, b"hello ada")
        assert response["Content-Type"] == "text/plain; charset=utf-8"

    def test_when_done_without_a_response_node_answers_the_output(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("hook", "trigger.webhook", respond="when_done"),
            node("work", "test.flaky", value="{{ input.body }}"),
            node("out", "output", value={"echo": "{{ steps.work.output.value }}"}),
        )
        response = APIClient().post(hook(workflow), {"a": [1, 2]}, format="json")
        assert response.status_code == 200, response.content
        assert response.json() == {"echo": {"a": [1, 2]}}
        assert Execution.objects.get(pk=response[webhook.EXECUTION_HEADER]).status == "completed"

    def test_when_done_past_the_timeout_answers_202(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("hook", "trigger.webhook", respond="when_done", response_timeout_seconds=1),
            node("slow", "test.slow", seconds=3),
        )
        response = APIClient().post(hook(workflow), {}, format="json")
        assert response.status_code == 202
        execution_id = response.json()["execution_id"]
        assert Execution.objects.get(pk=execution_id).status != "completed"
        assert wait_finished(execution_id).status == "completed"

    def test_when_done_and_the_run_fails(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("hook", "trigger.webhook", respond="when_done"),
            node("boom", "test.flaky", fail_times=5, retryable=False),
        )
        response = APIClient().post(hook(workflow), {}, format="json")
        assert response.status_code == 500
        assert response.json()["error"]["message"] == "The workflow run failed"
        assert Execution.objects.get(pk=response[webhook.EXECUTION_HEADER]).status == "failed"

    def test_signed_webhook_end_to_end(self, celery_worker, make_workflow, user):
        credential = credential_create(owner=user, name="signing", type="hmac_secret", data={"secret": SECRET.decode()})
        workflow = make_workflow(
            node("hook", "trigger.webhook", hmac_credential=str(credential.pk), respond="when_done"),
            node("out", "output", value="{{ input.body.event }}"),
        )
        body = json.dumps({"event": "invoice.paid"}).encode()
        signature = webhook.sign(SECRET, body, int(time.time()))
        headers = {"HTTP_X_FLOWBUILDER_SIGNATURE": signature, "HTTP_X_FLOWBUILDER_DELIVERY": "evt_1"}
        client = APIClient()
        response = client.post(hook(workflow), body, content_type="application/json", **headers)
        assert (response.status_code, response.json()) == (200, "invoice.paid")
        assert client.post(hook(workflow), body, content_type="application/json", **headers).status_code == 409
        unsigned = client.post(hook(workflow), body, content_type="application/json")
        assert unsigned.status_code == 401
        assert Execution.objects.filter(workflow=workflow).count() == 1


class TestSchedules:
    def test_the_beat_task_through_the_broker(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("tick", "trigger.schedule", cron="* * * * *", timezone="Europe/Paris", overlap="allow"),
            node("out", "output", value="{{ input.scheduled_for }}"),
        )
        fire_schedule.delay(str(workflow.pk))
        execution = wait_finished(wait_for(lambda: Execution.objects.filter(workflow=workflow).first()).pk)
        assert (execution.status, execution.trigger) == ("completed", "schedule")
        assert execution.scheduled_for.second == 0
        assert datetime.fromisoformat(execution.output_data) == execution.scheduled_for

    def test_overlap_queue_starts_the_held_run_when_the_previous_ends(self, celery_worker, make_workflow):
        workflow = make_workflow(
            node("tick", "trigger.schedule", cron="*/5 * * * *", overlap="queue"),
            node("slow", "test.slow", seconds=1.5),
        )
        first_tick = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
        first = schedule.schedule_fire_tick(workflow=workflow, tick=first_tick)
        second = schedule.schedule_fire_tick(workflow=workflow, tick=first_tick + timedelta(minutes=5))
        assert (first.outcome, second.outcome) == ("started", "held")
        a, b = wait_finished(first.execution_id), wait_finished(second.execution_id, timeout=30)
        assert (a.status, b.status) == ("completed", "completed")
        assert b.started_at >= a.completed_at  # one after the other, never side by side

    def test_a_real_beat_fires_the_schedule_once_per_tick(self, celery_worker, make_workflow, tmp_path):
        """`celery beat` with the DatabaseScheduler, on the test database: the next minute boundary fires a run."""
        workflow = make_workflow(
            node("tick", "trigger.schedule", cron="* * * * *", timezone="Europe/Paris"),
            node("out", "output", value="{{ input.scheduled_for }}"),
        )
        started_at = datetime.now(UTC)
        db = connection.settings_dict
        database_url = (
            f"postgres://{quote(db['USER'] or '')}:{quote(db['PASSWORD'] or '')}@{db['HOST'] or '127.0.0.1'}:"
            f"{db['PORT'] or 5432}/{db['NAME']}"
        )
        env = {**os.environ, "DATABASE_URL": database_url}
        log = (tmp_path / "beat.log").open("w")
        beat = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "flowbuilder",
                "beat",
                "--scheduler",
                "django_celery_beat.schedulers:DatabaseScheduler",
                "--loglevel",
                "INFO",
                "--max-interval",
                "1",
            ],
            cwd=ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            # At most a minute to the boundary, plus beat's start-up and the run itself.
            runs = Execution.objects.filter(workflow=workflow, trigger="schedule")
            execution = wait_finished(wait_for(runs.first, timeout=75, interval=0.2).pk)
        finally:
            beat.terminate()
            beat.wait(10)
            log.close()
            app.control.purge()  # what beat sent and nobody took yet must not run during the teardown
        beat_log = (tmp_path / "beat.log").read_text()
        assert "Sending due task" in beat_log, beat_log
        assert execution.status == "completed"
        tick = execution.scheduled_for
        assert (tick.second, tick.microsecond) == (0, 0)
        assert started_at < tick <= datetime.now(UTC)
        assert datetime.fromisoformat(execution.output_data) == tick
        assert runs.filter(scheduled_for=tick).count() == 1
