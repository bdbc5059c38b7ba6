"""Run statistics in the database, the stuck-step finder, queue depth and workers; the admin dashboard."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.test import Client
from django.utils import timezone

from executions.models import Execution, StepRun
from monitoring import selectors
from tests.factories import ExecutionFactory, WorkflowFactory

pytestmark = pytest.mark.django_db


def finished_run(workflow, seconds: float, status=Execution.Status.COMPLETED, **fields) -> Execution:
    now = timezone.now()
    return ExecutionFactory(
        workflow=workflow, status=status, started_at=now - timedelta(seconds=seconds), completed_at=now, **fields
    )


def percentile_cont(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = fraction * (len(ordered) - 1)
    low, high = math.floor(rank), math.ceil(rank)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


class TestRunStats:
    def test_counts_rates_and_percentiles(self):
        workflow = WorkflowFactory()
        durations = [0.5, 1.0, 2.0, 3.0, 10.0, 30.0]
        for seconds in durations:
            finished_run(workflow, seconds)
        finished_run(workflow, 4.0, Execution.Status.FAILED)
        finished_run(workflow, 5.0, Execution.Status.TIMED_OUT)
        ExecutionFactory(workflow=workflow, status=Execution.Status.CANCELLED)
        ExecutionFactory(workflow=workflow, status=Execution.Status.RUNNING)
        ExecutionFactory(workflow=workflow, status=Execution.Status.WAITING)
        ExecutionFactory(workflow=workflow, status=Execution.Status.QUEUED)
        old = finished_run(workflow, 100.0, Execution.Status.FAILED)
        Execution.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=2), completed_at=timezone.now() - timedelta(days=2)
        )
        parent = ExecutionFactory(workflow=workflow, status=Execution.Status.RUNNING)
        finished_run(workflow, 99.0, parent=parent)  # a child: not a run of its own

        stats = selectors.run_stats()
        assert (stats.runs, stats.completed, stats.failed, stats.cancelled) == (13, 6, 2, 1)
        assert (stats.running, stats.waiting, stats.queued) == (2, 1, 1)
        assert stats.failure_rate == round(2 / 8, 4)
        all_durations = [*durations, 4.0, 5.0]
        assert stats.p50_seconds == pytest.approx(percentile_cont(all_durations, 0.5), abs=0.01)
        assert stats.p95_seconds == pytest.approx(percentile_cont(all_durations, 0.95), abs=0.01)

    def test_the_portable_percentiles_agree_with_postgresql(self):
        workflow = WorkflowFactory()
        values = [0.25, 7.0, 1.5, 3.0, 3.0, 42.0, 0.75]
        for seconds in values:
            finished_run(workflow, seconds)
        queryset = Execution.objects.filter(workflow=workflow)
        fractions = (0.0, 0.5, 0.9, 0.95, 1.0)
        in_database = selectors.percentiles(queryset, selectors.run_seconds(), fractions)
        by_offset = selectors.percentiles_by_offset(queryset, selectors.run_seconds(), fractions)
        for fraction in fractions:
            assert in_database[fraction] == pytest.approx(percentile_cont(values, fraction), abs=0.01)
            assert by_offset[fraction] == pytest.approx(in_database[fraction], abs=0.001)
        assert selectors.percentiles_by_offset(Execution.objects.none(), selectors.run_seconds(), (0.5,)) == {0.5: None}

    def test_no_runs(self):
        stats = selectors.run_stats()
        assert (stats.runs, stats.failure_rate, stats.p50_seconds, stats.p95_seconds) == (0, None, None, None)


class TestStuckSteps:
    def test_expired_lease_first_then_the_oldest_queued(self, settings):
        settings.FLOWBUILDER_STUCK_STEP_SECONDS = 300
        now = timezone.now()
        execution = ExecutionFactory(status=Execution.Status.RUNNING)
        assert selectors.oldest_stuck_step() is None
        StepRun.objects.create(
            execution=execution, node_id="fresh", node_type="x", queued_at=now - timedelta(seconds=5)
        )
        old = StepRun.objects.create(
            execution=execution, node_id="old", node_type="x", queued_at=now - timedelta(minutes=20)
        )
        stuck = selectors.oldest_stuck_step(now=now)
        assert (stuck.step_id, stuck.reason, stuck.age_seconds) == (old.pk, "queued and not picked up", 1200.0)
        dead = StepRun.objects.create(
            execution=execution,
            node_id="dead",
            node_type="x",
            status=StepRun.Status.RUNNING,
            lease_expires_at=now - timedelta(seconds=90),
        )
        stuck = selectors.oldest_stuck_step(now=now)
        assert (stuck.step_id, stuck.reason, stuck.execution_id) == (
            dead.pk,
            "running with an expired lease",
            execution.pk,
        )


class TestQueuesAndWorkers:
    def test_queue_depth_is_the_length_of_each_redis_list(self, settings):
        settings.CELERY_TASK_DEFAULT_QUEUE = "test-depth-default"
        settings.FLOWBUILDER_STEPS_QUEUE = "test-depth-steps"
        client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
        keys = ["test-depth-default", "test-depth-steps", "test-depth-steps\x06\x163"]
        try:
            client.rpush(keys[0], "a", "b", "c")
            client.rpush(keys[1], "a")
            client.rpush(keys[2], "a", "b")  # a priority sub-queue counts too
            depth = selectors.queue_depth()
            assert depth.available
            assert depth.queues == {"test-depth-default": 3, "test-depth-steps": 3}
            assert depth.total == 6
        finally:
            client.delete(*keys)

    def test_queue_depth_is_na_without_redis_or_when_it_is_down(self, settings):
        settings.CELERY_BROKER_URL = "memory://"
        assert not selectors.queue_depth().available
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        down = selectors.queue_depth()
        assert not down.available
        assert "Connection" in down.error

    def test_workers_unreachable_broker(self, settings):
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        assert selectors.workers_seen(refresh=True) is None


class TestDashboard:
    def test_index_shows_the_figures_with_links(self, make_user, settings):
        settings.CELERY_TASK_DEFAULT_QUEUE = "test-dash-default"
        settings.FLOWBUILDER_STEPS_QUEUE = "test-dash-steps"
        workflow = WorkflowFactory()
        finished_run(workflow, 2.0)
        finished_run(workflow, 4.0, Execution.Status.FAILED)
        running = ExecutionFactory(workflow=workflow, status=Execution.Status.RUNNING)
        StepRun.objects.create(
            execution=running,
            node_id="fetch",
            node_type="http_request",
            status=StepRun.Status.RUNNING,
            lease_expires_at=timezone.now() - timedelta(minutes=3),
        )
        client = Client()
        client.force_login(make_user(is_staff=True, is_superuser=True))
        response = client.get("/admin/")
        assert response.status_code == 200
        html = response.content.decode()
        assert 'id="console-dashboard"' in html
        assert "failure rate 50.0 %" in html
        assert "3.00 s" in html  # p50 of 2 s and 4 s
        assert "fetch: running with an expired lease" in html
        assert f"/admin/executions/execution/{running.pk}/change/" in html
        assert "test-dash-default 0, test-dash-steps 0" in html
        # The admin's own index is still there, below.
        assert "app-executions" in html
        for link in response.context["links"].values():
            assert client.get(link).status_code == 200, link

    def test_index_with_the_broker_down(self, make_user, settings):
        settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"
        client = Client()
        client.force_login(make_user(is_staff=True, is_superuser=True))
        html = client.get("/admin/").content.decode()
        assert html.count('<div class="figure">n/a</div>') == 2  # queue depth and workers
