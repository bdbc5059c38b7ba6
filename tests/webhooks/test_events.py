"""Events becoming deliveries (routing, filters, one delivery per occurrence, sizes), and single attempts
made in this thread against real loopback receivers: claims, timeouts, redirects, the sweep."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from executions.engine import runner
from executions.models import Execution
from executions.services import execution_start
from files import signals as file_signals
from tests.factories import UserFactory, WorkflowFactory
from tests.webhooks.signatures import verify_signature
from tests.workflows.helpers import linear, node
from webhooks import delivery, services, signing
from webhooks.models import WebhookDelivery

pytestmark = pytest.mark.django_db

STARTED, COMPLETED, FAILED = "workflow.execution.started", "workflow.execution.completed", "workflow.execution.failed"
QUOTA, FILE = "user.quota.exceeded", "file.processing.completed"


@pytest.fixture
def queued(monkeypatch) -> list[tuple[str, float]]:
    """The delivery tasks that would be sent to the broker after commit: (row id, countdown)."""
    jobs: list[tuple[str, float]] = []
    monkeypatch.setattr(delivery, "_send_tasks", jobs.extend)
    return jobs


def subscribe(owner, url="https://93.184.216.34/hook", events=(STARTED, COMPLETED, FAILED), **kwargs):
    subscription, secret = services.webhook_create(owner=owner, url=url, events=list(events), **kwargs)
    return subscription, secret


def quota(user, used=10) -> list[WebhookDelivery]:
    return services.quota_exceeded_emit(user=user, used_bytes=used, quota_bytes=100, requested_bytes=95)


class TestRouting:
    def test_an_event_goes_to_each_active_subscription_that_wants_it(
        self, user, queued, django_capture_on_commit_callbacks
    ):
        wants, _ = subscribe(user, events=[QUOTA])
        also, _ = subscribe(user, events=[QUOTA, STARTED])
        subscribe(user, events=[STARTED])  # another event
        paused, _ = subscribe(user, events=[QUOTA])
        services.webhook_update(subscription=paused, is_active=False)
        subscribe(UserFactory(), events=[QUOTA])  # someone else's
        with django_capture_on_commit_callbacks(execute=True):
            rows = quota(user)
        assert {r.subscription_id for r in rows} == {wants.pk, also.pk}
        assert sorted(pk for pk, _ in queued) == sorted(str(r.pk) for r in rows)
        assert {countdown for _, countdown in queued} == {0.0}
        row = rows[0]
        assert (row.status, row.attempt, row.event, row.url) == ("pending", 1, QUOTA, wants.url)
        assert row.payload == {
            "event": QUOTA,
            "data": {
                "user_id": str(user.pk),
                "quota": "file_storage",
                "used_bytes": 10,
                "quota_bytes": 100,
                "requested_bytes": 95,
            },
            "timestamp": row.payload["timestamp"],
            "delivery_id": str(row.delivery_id),
        }
        assert rows[0].delivery_id != rows[1].delivery_id

    def test_nothing_is_written_or_built_when_nobody_listens(self, user, django_assert_num_queries):
        def boom():
            raise AssertionError("data built for nobody")

        with django_assert_num_queries(1):
            assert services.event_emit(owner_id=user.pk, event=QUOTA, data=boom) == []

    def test_the_workflow_filter(self, user, queued):
        mine, other = WorkflowFactory(owner=user), WorkflowFactory(owner=user)
        filtered, _ = subscribe(user, events=[STARTED, QUOTA], workflow_id=mine.pk)
        everything, _ = subscribe(user, events=[STARTED, QUOTA])
        for workflow, expected in ((mine, {filtered.pk, everything.pk}), (other, {everything.pk})):
            execution = Execution.objects.create(
                workflow=workflow, workflow_version=workflow.versions.get(), owner=user, input_data={"n": 1}
            )
            assert {r.subscription_id for r in services.execution_started_emit(execution=execution)} == expected
        # A quota is not about a workflow: filtered subscriptions get it too.
        assert {r.subscription_id for r in quota(user)} == {filtered.pk, everything.pk}

    def test_one_delivery_per_occurrence_and_target(self, user, queued):
        subscription, _ = subscribe(user)
        workflow = WorkflowFactory(owner=user)
        execution = Execution.objects.create(
            workflow=workflow,
            workflow_version=workflow.versions.get(),
            owner=user,
            status="completed",
            output_data={"ok": True},
            webhook_url="https://93.184.216.34/run",
        )
        first = services.execution_finished_emit(execution=execution)
        assert [(r.subscription_id, r.event, r.url) for r in first] == [
            (subscription.pk, COMPLETED, subscription.url),
            (None, COMPLETED, "https://93.184.216.34/run"),
        ]
        assert services.execution_finished_emit(execution=execution) == []  # a repeated signal
        assert WebhookDelivery.objects.count() == 2

    def test_run_events_say_how_the_run_went(self, user, queued, settings):
        subscribe(user)
        workflow = WorkflowFactory(owner=user, name="Nightly")
        version = workflow.versions.get()
        now = timezone.now()

        def run(**fields):
            return Execution.objects.create(
                workflow=workflow, workflow_version=version, owner=user, started_at=now, completed_at=now, **fields
            )

        ok = services.execution_finished_emit(execution=run(status="completed", output_data={"n": 2}))[0]
        assert ok.event == COMPLETED
        data = ok.payload["data"]
        assert (data["workflow_name"], data["workflow_version"], data["status"], data["output_data"]) == (
            "Nightly",
            1,
            "completed",
            {"n": 2},
        )
        assert data["truncated"] is False
        assert "error" not in data
        assert "input_data" not in data
        for status in ("failed", "timed_out", "cancelled"):
            row = services.execution_finished_emit(execution=run(status=status, error={"message": "boom"}))[0]
            assert (row.event, row.payload["data"]["status"], row.payload["data"]["error"]) == (
                FAILED,
                status,
                {"message": "boom"},
            )
        settings.FLOWBUILDER_WEBHOOK_DELIVERY_MAX_PAYLOAD_BYTES = 2000
        big = services.execution_finished_emit(execution=run(status="completed", output_data={"x": "y" * 5000}))[0]
        assert (big.payload["data"]["output_data"], big.payload["data"]["truncated"]) == (None, True)

    def test_started_is_sent_once_the_run_is_committed(self, user, queued, inline_engine):
        subscribe(user)
        workflow = WorkflowFactory(owner=user)
        execution = inline_engine.run(workflow, {"n": 4})
        rows = WebhookDelivery.objects.filter(execution=execution).order_by("created_at")
        assert [r.event for r in rows] == [STARTED, COMPLETED]
        assert rows[0].payload["data"]["input_data"] == {"n": 4}
        assert rows[0].payload["data"]["status"] == "queued"
        assert rows[1].payload["data"]["output_data"] == {"result": 8}

    def test_a_runs_events_are_stored_with_it_and_survive_a_process_dying_after_the_commit(
        self, user, queued, settings
    ):
        """An outbox: the delivery rows are written in the transactions that start and end the run, so a
        worker dying right after a commit (here: no after-commit callback ever runs) loses no event, and
        the sweep sends them."""
        subscribe(user)
        execution, _ = execution_start(workflow=WorkflowFactory(owner=user), input_data={"n": 4})
        runner.start_execution(execution.pk)  # inline steps only: the run ends here
        execution.refresh_from_db()
        assert execution.status == "completed", execution.error
        assert queued == []  # nothing was sent: the callbacks that would have were lost
        rows = WebhookDelivery.objects.filter(execution=execution).order_by("created_at")
        assert [(r.event, r.status) for r in rows] == [(STARTED, "pending"), (COMPLETED, "pending")]
        assert rows[1].payload["data"]["output_data"] == {"result": 8}
        settings.FLOWBUILDER_REQUEUE_AFTER_SECONDS = 0  # as when the requeue delay has passed
        assert delivery.sweep() == 2

    def test_a_listener_failing_in_the_database_does_not_undo_the_runs_end(self, user, queued, monkeypatch, caplog):
        def broken(**kwargs):
            with connection.cursor() as cursor:
                cursor.execute("SELECT * FROM no_such_table")

        subscribe(user)
        monkeypatch.setattr(services, "execution_finished_emit", broken)
        execution, _ = execution_start(workflow=WorkflowFactory(owner=user), input_data={"n": 4})
        runner.start_execution(execution.pk)
        execution.refresh_from_db()  # the transaction is still usable: the listener had its own savepoint
        assert execution.status == "completed", execution.error
        assert "Could not record the webhook event of run" in caplog.text
        assert [r.event for r in WebhookDelivery.objects.filter(execution=execution)] == [STARTED]

    def test_child_runs_and_dry_runs_make_no_events(self, user, queued, inline_engine):
        subscribe(user)
        child = WorkflowFactory(owner=user)
        parent = WorkflowFactory(
            owner=user,
            definition=linear(
                node("start", "trigger.manual"),
                node("sub", "sub_workflow", workflow_id=str(child.pk), input={"n": 1}),
            ),
        )
        execution = inline_engine.run(parent, {})
        assert execution.status == "completed", execution.error
        assert set(WebhookDelivery.objects.values_list("execution_id", flat=True)) == {execution.pk}
        inline_engine.run(parent, {}, mode="dry_run")
        assert WebhookDelivery.objects.count() == 2

    def test_a_broken_receiver_of_the_signal_does_not_break_the_sender(self, user, monkeypatch, caplog):
        def broken(**kwargs):
            raise RuntimeError("database on fire")

        monkeypatch.setattr(services, "quota_exceeded_emit", broken)
        file_signals.quota_exceeded.send(sender=None, user=user, used_bytes=1, quota_bytes=2, requested_bytes=3)
        assert "Could not record the quota webhook event" in caplog.text


class TestAttempts:
    """One attempt at a time, in this thread (the worker tests cover the Celery path)."""

    def test_success_is_recorded_with_status_and_time(self, user, receiver, queued):
        subscription, secret = subscribe(user, url=receiver.script("/ok", [204]), events=[QUOTA])
        row = quota(user)[0]
        assert delivery.deliver(row.pk) == "succeeded"
        row.refresh_from_db()
        assert (row.response_status, row.error, row.locked_until, row.attempt) == (204, "", None, 1)
        assert row.response_time_ms is not None
        assert row.attempted_at
        assert row.completed_at
        payload = verify_signature(secret, receiver.got("/ok")[0])
        assert payload == row.payload
        subscription.refresh_from_db()
        assert (subscription.failure_count, subscription.last_success_at is not None) == (0, True)

    def test_a_duplicate_or_early_message_does_nothing(self, user, receiver, queued):
        subscribe(user, url=receiver.url("/once"), events=[QUOTA])
        row = quota(user)[0]
        WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now() + timedelta(minutes=5))
        assert delivery.deliver(row.pk) is None  # not due yet
        WebhookDelivery.objects.filter(pk=row.pk).update(next_attempt_at=timezone.now())
        assert delivery.deliver(row.pk) == "succeeded", WebhookDelivery.objects.get(pk=row.pk).error
        assert delivery.deliver(row.pk) is None  # a second delivery of the message
        assert len(receiver.got("/once")) == 1

    def test_a_timeout_is_a_failure_that_is_retried(
        self, user, receiver, queued, settings, django_capture_on_commit_callbacks
    ):
        settings.FLOWBUILDER_WEBHOOK_DELIVERY_TIMEOUT_SECONDS = 0.5
        receiver.hang_seconds = 2
        subscribe(user, url=receiver.script("/slow", [0]), events=[QUOTA])
        row = quota(user)[0]
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery.deliver(row.pk) == "retrying"
        row.refresh_from_db()
        assert row.error == "Timed out after 0.5s"
        assert row.response_status is None
        retry = WebhookDelivery.objects.get(delivery_id=row.delivery_id, attempt=2)
        assert (retry.status, retry.next_attempt_at) == ("pending", row.next_attempt_at)
        assert row.next_attempt_at - row.completed_at == timedelta(seconds=60)
        # Due in 60 s, within FLOWBUILDER_MAX_COUNTDOWN_SECONDS: queued with a countdown.
        assert queued[-1][0] == str(retry.pk)
        assert 0 < queued[-1][1] <= 60

    def test_redirects_are_not_followed(self, user, receiver, forbidden, queued):
        receiver.redirect_to = forbidden.url("/steal")
        subscribe(user, url=receiver.script("/moved", [302]), events=[QUOTA])
        row = quota(user)[0]
        assert delivery.deliver(row.pk) == "retrying"
        row.refresh_from_db()
        assert (row.response_status, row.error) == (302, "HTTP 302 (redirects are not followed)")

    def test_connection_refused_is_retried(self, user, receiver, queued, settings):
        import socket

        with socket.socket() as probe:  # a port nobody listens on
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        subscribe(user, url=f"http://127.0.0.1:{port}/", events=[QUOTA])
        row = quota(user)[0]
        assert delivery.deliver(row.pk) == "retrying"
        row.refresh_from_db()
        assert "ConnectError" in row.error

    def test_the_sweep_queues_due_rows_nobody_will_start(
        self, user, receiver, queued, settings, django_capture_on_commit_callbacks
    ):
        settings.FLOWBUILDER_WEBHOOK_DELIVERY_RETRY_DELAYS = [3600]
        subscribe(user, url=receiver.script("/down", [500]), events=[QUOTA])
        first = quota(user)[0]
        with django_capture_on_commit_callbacks(execute=True):
            assert delivery.deliver(first.pk) == "retrying"
        later = WebhookDelivery.objects.get(delivery_id=first.delivery_id, attempt=2)
        assert later.queued_at is None  # an hour away: no countdown, the sweep's job
        assert queued == []

        def sweep() -> int:
            with django_capture_on_commit_callbacks(execute=True):
                return delivery.sweep()

        assert sweep() == 0  # not due
        WebhookDelivery.objects.filter(pk=later.pk).update(next_attempt_at=timezone.now() - timedelta(seconds=1))
        assert sweep() == 1
        assert sweep() == 0  # queued now: not again until FLOWBUILDER_REQUEUE_AFTER_SECONDS
        assert queued == [(str(later.pk), 0.0)]
        # The message was lost: after the requeue delay the sweep sends it again.
        WebhookDelivery.objects.filter(pk=later.pk).update(queued_at=timezone.now() - timedelta(minutes=2))
        assert sweep() == 1
        # An attempt in flight (its lease not run out) is left alone.
        WebhookDelivery.objects.filter(pk=later.pk).update(
            queued_at=None, locked_until=timezone.now() + timedelta(seconds=30)
        )
        assert sweep() == 0
        WebhookDelivery.objects.filter(pk=later.pk).update(locked_until=timezone.now() - timedelta(seconds=1))
        assert sweep() == 1
        assert delivery.deliver(later.pk) == "given_up"

    def test_a_ping_is_one_attempt_not_counted(self, user, receiver, queued):
        subscription, _ = subscribe(user, url=receiver.script("/p", [500]), events=[QUOTA])
        services.webhook_update(subscription=subscription, is_active=False)
        row = services.webhook_ping(subscription=subscription)
        assert delivery.deliver(row.pk) == "failed"
        subscription.refresh_from_db()
        assert (subscription.failure_count, subscription.is_active) == (0, False)
        assert not WebhookDelivery.objects.filter(delivery_id=row.delivery_id, attempt=2).exists()
        assert len(receiver.got("/p")) == 1

    def test_a_subscription_deleted_meanwhile(self, user, receiver, queued):
        subscription, _ = subscribe(user, url=receiver.url("/gone"), events=[QUOTA])
        row = quota(user)[0]
        services.webhook_delete(subscription=subscription)
        assert delivery.deliver(row.pk) is None
        assert receiver.got("/gone") == []

    def test_a_run_webhook_without_a_secret_gets_one(self, user, receiver, queued):
        from integrations import crypto
        from webhooks.models import WebhookSigningSecret

        workflow = WorkflowFactory(owner=user)
        execution = Execution.objects.create(
            workflow=workflow,
            workflow_version=workflow.versions.get(),
            owner=user,
            status="failed",
            error={"message": "boom"},
            webhook_url=receiver.url("/run"),
        )
        row = services.execution_finished_emit(execution=execution)[0]
        assert delivery.deliver(row.pk) == "succeeded"
        secret = crypto.decrypt(WebhookSigningSecret.objects.get(owner=user).encrypted_secret)
        payload = verify_signature(secret, receiver.got("/run")[0])
        assert (payload["event"], payload["data"]["error"]) == (FAILED, {"message": "boom"})


def readme_verifier():
    """The verification snippet of the README's "Verifying a delivery (Python)", as a function."""
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    block = text.split("### Verifying a delivery (Python)", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # our own documentation
    return namespace["verify_flowbuilder_webhook"]


def test_the_readme_snippet_verifies_a_real_delivery(user, receiver, queued):
    verify = readme_verifier()
    _, secret = subscribe(user, url=receiver.url("/doc"), events=[QUOTA])
    row = quota(user)[0]
    assert delivery.deliver(row.pk) == "succeeded"
    (hit,) = receiver.got("/doc")
    signature = hit.headers["x-flowbuilder-signature"]
    assert verify(secret, hit.raw, signature)["delivery_id"] == str(row.delivery_id)
    for args in (
        ("whsec_wrong", hit.raw, signature),
        (secret, hit.raw + b" ", signature),
        (secret, hit.raw, signature.replace("t=", "t=1")),
        (secret, hit.raw, ""),
    ):
        with pytest.raises(ValueError, match=r"signature|timestamp"):
            verify(*args)
    assert signing.verify(secret, hit.raw, signature)
    assert not signing.verify(secret, hit.raw, signature, now=time.time() + 3600)
