"""The engine on real Celery workers over Redis and PostgreSQL.

A worker thread (session fixture) for most tests; worker subprocesses for the
one that kills a worker with SIGKILL in the middle of a step.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction

from executions.engine import recovery
from executions.models import Execution, ExecutionLog, StepRun
from executions.services import approval_decide, execution_cancel, execution_start
from executions.tasks import run_step
from tests.engine_fixtures import private_queue, wait_finished, wait_for, wait_status, worker_process
from tests.workflows.helpers import edge, linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)
ROOT = Path(__file__).resolve().parents[3]


def start(workflow, input_data=None, **kwargs) -> Execution:
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data=input_data or {}, **kwargs)
    return execution


@pytest.fixture
def make_workflow(user):
    def make(definition, name="wf"):
        return workflow_create(owner=user, name=name, definition=definition)

    return make


def test_run_end_to_end(celery_worker, make_workflow):
    definition = linear(
        node("start", "trigger.manual"),
        node("fetch", "test.flaky", value="{{ input.n }}"),
        node("out", "output", value={"got": "{{ steps.fetch.output.value * 2 }}"}),
    )
    execution = wait_finished(start(make_workflow(definition), {"n": 21}).pk)
    assert (execution.status, execution.output_data, execution.progress) == ("completed", {"got": 42}, 100)
    assert list(execution.steps.values_list("status", flat=True)) == ["completed"] * 3


def test_parallel_branches_really_overlap(celery_worker, make_workflow):
    definition = {
        "nodes": [
            node("start", "trigger.manual"),
            node("a", "test.slow", seconds=1),
            node("b", "test.slow", seconds=1),
            node("m", "merge"),
        ],
        "edges": [edge("start", "a"), edge("start", "b"), edge("a", "m"), edge("b", "m")],
    }
    execution = wait_finished(start(make_workflow(definition)).pk)
    a, b = (execution.steps.get(node_id=n).output for n in "ab")
    assert a["started"] < b["ended"], (a, b)
    assert b["started"] < a["ended"], (a, b)
    assert execution.duration < 1.9  # two one-second steps side by side, not one after the other


def test_retry_with_backoff(celery_worker, make_workflow):
    definition = linear(node("start", "trigger.manual"), node("f", "test.flaky", fail_times=2))
    definition["nodes"][1]["retry"] = {"max_attempts": 3, "backoff_seconds": 0.2}
    execution = wait_finished(start(make_workflow(definition)).pk)
    step = execution.steps.get(node_id="f")
    assert (execution.status, step.attempt) == ("completed", 3)
    assert ExecutionLog.objects.filter(execution=execution, level="warning").count() == 2


def test_cancel_during_a_delay(celery_worker, make_workflow):
    definition = linear(
        node("start", "trigger.manual"), node("wait", "delay", seconds=600), node("after", "transform", value=1)
    )
    execution = wait_status(start(make_workflow(definition)).pk, "waiting")
    execution_cancel(execution=execution)
    execution.refresh_from_db()
    assert execution.status == "cancelled"
    assert dict(execution.steps.values_list("node_id", "status")) == {
        "start": "completed",
        "wait": "cancelled",
        "after": "cancelled",
    }


def test_approval(celery_worker, make_workflow, user):
    definition = {
        "nodes": [
            node("start", "trigger.manual"),
            node("ask", "approval", message="ok?"),
            node("yes", "transform", value="go"),
        ],
        "edges": [edge("start", "ask"), edge("ask", "yes", "approved")],
    }
    execution = wait_status(start(make_workflow(definition)).pk, "waiting")
    with transaction.atomic():
        approval_decide(execution=execution, node_id="ask", actor=user, approved=True)
    assert wait_finished(execution.pk).output_data == {"yes": "go"}


def test_for_each_and_sub_workflow(celery_worker, make_workflow):
    child = make_workflow(
        linear(node("start", "trigger.manual"), node("slow", "test.slow", seconds=0.05, value="{{ input.x * 10 }}")),
        name="child",
    )
    parent = make_workflow(
        {
            "nodes": [
                node("start", "trigger.manual"),
                node(
                    "loop",
                    "for_each",
                    items="{{ input.xs }}",
                    workflow_id=str(child.pk),
                    input={"x": "{{ item }}"},
                    parallelism=2,
                ),
                node("one", "sub_workflow", workflow_id=str(child.pk), input={"x": 7}),
                node(
                    "out",
                    "output",
                    value={
                        "loop": "{{ steps.loop.output | map(attribute='slow') | map(attribute='value') | list }}",
                        "one": "{{ steps.one.output.slow.value }}",
                    },
                ),
            ],
            "edges": [edge("start", "loop"), edge("loop", "one"), edge("one", "out")],
        },
        name="parent",
    )
    execution = wait_finished(start(parent, {"xs": [3, 1, 2, 5, 4]}).pk, timeout=30)
    assert execution.output_data == {"loop": [30, 10, 20, 50, 40], "one": 70}
    assert Execution.objects.filter(parent=execution).count() == 6


def test_duplicate_delivery_runs_the_step_once(celery_worker, make_workflow, tmp_path):
    definition = linear(
        node("start", "trigger.manual"),
        node("slow", "test.slow", seconds=0.3, marker_dir=str(tmp_path)),
        node("after", "transform", value=1),
    )
    execution = start(make_workflow(definition))
    step = wait_for(
        lambda: StepRun.objects.filter(execution=execution, node_id="slow", queued_at__isnull=False).first()
    )
    for _ in range(3):  # the broker redelivers the same message, several times, at once
        run_step.apply_async((step.pk,), queue=settings.FLOWBUILDER_STEPS_QUEUE)
    execution = wait_finished(execution.pk)
    time.sleep(0.5)  # let the duplicates arrive and be turned away
    assert execution.status == "completed"
    assert len(list(tmp_path.glob("*.started"))) == 1
    execution.refresh_from_db()
    assert execution.steps.get(node_id="slow").attempt == 1


def run_through_a_worker_kill(env, log, workflow, markers, killed_at: str) -> Execution:
    """Run ``workflow`` on a worker subprocess, SIGKILL it (and its pool process) once a marker file
    matching ``killed_at`` appears, start another, and let the sweep put the lost step back (its lease
    runs out two seconds later; beat would sweep every 15 s). Answers the run once it has ended."""
    first = worker_process(env, log)
    second = None
    try:
        execution = start(workflow)
        wait_for(lambda: list(markers.glob(killed_at)), timeout=60)
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(10)
        second = worker_process(env, log)
        assert wait_for(lambda: recovery.sweep().lost_steps_rerun, timeout=30, interval=0.5) == 1
        return wait_finished(execution.pk, timeout=60)
    finally:
        for worker in (first, second):
            if worker and worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
                worker.wait(20)


def test_worker_killed_mid_step_and_the_run_still_finishes_once(make_workflow, tmp_path, settings):
    env = private_queue(settings, "killtest")
    markers = tmp_path / "markers"
    markers.mkdir()
    definition = linear(
        node("start", "trigger.manual"),
        node("slow", "test.slow", first_attempt_seconds=60, seconds=0.2, marker_dir=str(markers)),
        node("after", "test.flaky", value="after"),
    )
    log = tmp_path / "workers.log"
    execution = run_through_a_worker_kill(env, log, make_workflow(definition), markers, "slow.1.*.started")
    assert execution.status == "completed", log.read_text()[-3000:]
    slow = execution.steps.get(node_id="slow")
    assert slow.attempt == 2
    assert sorted(p.name.split(".")[1] + p.suffix for p in markers.iterdir()) == ["1.started", "2.done", "2.started"]
    assert execution.steps.get(node_id="after").attempt == 1  # what follows ran exactly once
    assert ExecutionLog.objects.filter(execution=execution, message__contains="was lost").count() == 1


def test_worker_killed_in_an_eager_chain_repeats_only_the_step_it_was_in(make_workflow, tmp_path, settings):
    env = private_queue(settings, "eagerkill")
    markers = tmp_path / "markers"
    markers.mkdir()
    definition = linear(
        node("start", "trigger.manual"),
        node("a", "test.slow", seconds=0.05, marker_dir=str(markers)),
        node("b", "test.slow", first_attempt_seconds=60, seconds=0.05, marker_dir=str(markers)),
        node("c", "test.slow", seconds=0.05, marker_dir=str(markers)),
        node("d", "test.flaky", value="d"),
    )
    log = tmp_path / "workers.log"
    # b followed a in a's task: the kill comes while b's first attempt runs.
    execution = run_through_a_worker_kill(env, log, make_workflow(definition), markers, "b.1.*.started")
    assert execution.status == "completed", log.read_text()[-3000:]
    ran = sorted(p.name.split(".")[0] + p.name.split(".")[1] + p.suffix for p in markers.iterdir())
    # a once, b twice (the attempt the kill cut short, then the one the sweep sent), c once.
    assert ran == ["a1.done", "a1.started", "b1.started", "b2.done", "b2.started", "c1.done", "c1.started"]
    attempts = dict(execution.steps.values_list("node_id", "attempt"))
    assert attempts == {"start": 1, "a": 1, "b": 2, "c": 1, "d": 1}


def test_events_reach_the_channel_layer_in_order(celery_worker, make_workflow):
    import asyncio

    from asgiref.sync import async_to_sync
    from channels.layers import get_channel_layer

    from executions.broadcast import workflow_group

    layer = get_channel_layer()
    workflow = make_workflow(
        linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1), node("t", "transform", value=2))
    )
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(workflow_group(workflow.pk), channel)
    execution = start(workflow)
    messages = []

    async def receive():
        return await asyncio.wait_for(layer.receive(channel), 10)

    while not messages or messages[-1]["type"] not in ("execution_completed", "execution_failed"):
        batch = async_to_sync(receive)()
        assert batch["type"] == "execution.events"
        messages.extend(batch["messages"])
    assert {m["execution_id"] for m in messages} == {str(execution.pk)}
    seqs = [m["seq"] for m in messages]
    assert seqs == sorted(set(seqs))
    steps = [(m["data"]["node_id"], m["data"]["status"]) for m in messages if m["type"] == "step_update"]
    assert steps[-3:] == [
        ("f", "running"),
        ("f", "completed"),
        ("t", "completed"),
    ]  # a dispatched step announces its start
    assert messages[-1]["progress"] == 100
    assert messages[-1]["status"] == "completed"


class TestPoisonPills:
    """Work that kills its worker fails after FLOWBUILDER_MAX_WORKER_DEATHS deaths instead of killing the next one."""

    @pytest.fixture
    def killable(self, tmp_path, settings):
        """A prefork worker subprocess on a private queue, where test.kill_worker may kill its pool process."""
        env = private_queue(settings, "poison", FLOWBUILDER_TEST_KILLABLE="1")
        log = tmp_path / "worker.log"
        worker = worker_process(env, log)
        markers = tmp_path / "markers"
        markers.mkdir()
        yield worker, markers, log
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGTERM)
            worker.wait(20)

    def test_a_step_that_kills_its_worker_fails_after_two_deaths_and_the_run_follows_on_error(
        self, killable, make_workflow
    ):
        worker, markers, log = killable
        definition = linear(
            node("start", "trigger.manual"),
            node("pill", "test.kill_worker", marker_dir=str(markers)),
            node("after", "test.flaky", value="went on"),
        )
        definition["nodes"][1]["on_error"] = "continue"
        execution = start(make_workflow(definition))

        def swept_and_done():
            recovery.sweep()  # beat's job: a dead worker's step is found when its lease runs out
            return Execution.objects.get(pk=execution.pk).is_finished

        wait_for(swept_and_done, timeout=90, interval=0.5)
        execution.refresh_from_db()
        pill = execution.steps.get(node_id="pill")
        assert (pill.status, pill.worker_deaths) == ("failed", 2), log.read_text()[-3000:]
        assert pill.error["message"] == "The worker running this step died 2 times; it is not retried again"
        assert len(list(markers.iterdir())) == 2  # tried twice, not again
        assert (execution.status, execution.output_data) == ("completed", {"after": {"attempt": 1, "value": "went on"}})
        assert worker.poll() is None  # the worker itself is still there, and still serves
        healthy = wait_finished(start(make_workflow(linear(node("s", "trigger.manual"), node("f", "test.flaky")))).pk)
        assert healthy.status == "completed"

    def test_a_start_that_kills_its_worker_fails_the_run_after_two_deaths(self, killable, make_workflow):
        worker, markers, log = killable
        definition = linear(
            node("start", "trigger.manual"),
            node("pill", "test.kill_worker_inline", marker_dir=str(markers)),  # runs inside the start's task
        )
        execution = wait_finished(start(make_workflow(definition)).pk, timeout=90)
        assert execution.status == "failed", log.read_text()[-3000:]
        assert execution.error["message"] == "The worker starting this run died 2 times; it is not retried again"
        assert len(list(markers.iterdir())) == 2
        assert worker.poll() is None


@pytest.mark.parametrize(
    ("bomb", "message"),
    [
        (
            "{% set s = namespace(v='a') %}{% for i in range(40) %}{% set s.v = s.v ~ s.v %}{% endfor %}",
            "a result of 1,048,576 items or characters is not allowed",
        ),
        (
            "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}x",
            "loops ran more than 1,000,000 times",
        ),
        ("{{ 'x' | center(200000000) }}", "a result of 200,000,000 items"),
    ],
)
def test_expression_bombs_fail_their_step_and_the_worker_goes_on(celery_worker, make_workflow, bomb, message):
    """The hostile-input issue's bombs, on a real worker: the step fails, not retried; the next run is served."""
    definition = linear(node("start", "trigger.manual"), node("bomb", "transform", value=bomb))
    execution = wait_finished(start(make_workflow(definition)).pk)
    step = execution.steps.get(node_id="bomb")
    assert (execution.status, step.status, step.attempt) == ("failed", "failed", 1)
    assert message in step.error["message"]
    healthy = linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1))
    assert wait_finished(start(make_workflow(healthy)).pk).status == "completed"
