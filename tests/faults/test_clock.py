"""Workers and sweeps on machines whose clocks are hours off (libfaketime): the database's clock decides.

A worker 3 hours behind would write leases that are over before they start (the
sweep would run its live steps again) and delays that are due at once; a sweep
3 hours ahead would see every lease as lost and every delay as over. Each
process measures its offset from the database server (flowbuilder/clock.py).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys

import pytest
from django.db import transaction
from django.db.models.functions import Now

from executions.engine import recovery
from executions.models import Execution, StepRun
from executions.services import execution_cancel, execution_start
from tests.engine_fixtures import ROOT, private_queue, wait_for, worker_process
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

FAKETIME = shutil.which("faketime")
if FAKETIME is None:  # .ci/run installs it; a missing tool must fail, not skip
    raise RuntimeError("These tests need libfaketime's `faketime` (apt-get install faketime)")


def skewed(offset: str) -> list[str]:
    """Run a command with its clock moved by ``offset`` (e.g. ``-3h``).

    libfaketime moves the monotonic clock too: with ``DONT_FAKE_MONOTONIC`` Python 3.11's
    ``time.sleep`` (an absolute ``clock_nanosleep``) fails with EINVAL.
    """
    return [FAKETIME, "-f", offset]


def start(workflow) -> Execution:
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data={})
    return execution


def stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(20)


def test_a_worker_three_hours_behind_keeps_its_lease_and_ends_a_delay_on_time(user, tmp_path, settings):
    env = private_queue(settings, "behind")
    markers = tmp_path / "markers"
    markers.mkdir()
    workflow = workflow_create(
        owner=user,
        name="behind",
        definition=linear(
            node("start", "trigger.manual"),
            node("slow", "test.slow", seconds=5, marker_dir=str(markers)),  # longer than two 2-s leases
            node("pause", "delay", seconds=4),
            node("after", "test.flaky", value="after"),
        ),
    )
    log = tmp_path / "worker.log"
    worker = worker_process(env, log, wrapper=skewed("-3h"))
    reports = []
    try:
        execution = start(workflow)
        wait_for(lambda: list(markers.glob("slow.1.*.started")), timeout=60)
        # The worker's lease is in the future by the database's clock, not three hours in its past.
        assert StepRun.objects.filter(execution=execution, node_id="slow", lease_expires_at__gt=Now()).exists()

        def swept_until_finished() -> bool:  # as beat would, but every 0.3 s, on this (true) clock
            reports.append(recovery.sweep())
            return Execution.objects.get(pk=execution.pk).is_finished

        wait_for(swept_until_finished, timeout=90, interval=0.3)
    finally:
        stop(worker)
    execution.refresh_from_db()
    assert execution.status == "completed", log.read_text()[-3000:]
    assert sum(report.lost_steps_rerun for report in reports) == 0
    assert sorted(path.name.split(".")[1] + path.suffix for path in markers.iterdir()) == ["1.done", "1.started"]
    pause = execution.steps.get(node_id="pause")
    assert 4 <= pause.output["waited_seconds"] < 30  # not woken at once by the sweep, nor hours "late"
    assert 4 <= (pause.completed_at - pause.started_at).total_seconds() < 30
    assert abs((execution.completed_at - execution.created_at).total_seconds()) < 120  # one clock for both


def test_a_sweep_three_hours_ahead_reruns_no_live_step_and_wakes_no_delay(user, tmp_path, settings):
    env = private_queue(settings, "ahead")
    gate = tmp_path / "gate"
    markers = tmp_path / "markers"
    markers.mkdir()
    running = workflow_create(
        owner=user,
        name="running",
        definition=linear(
            node("start", "trigger.manual"),
            node("slow", "test.slow", gate=str(gate), seconds=0, marker_dir=str(markers)),
        ),
    )
    waiting = workflow_create(
        owner=user,
        name="waiting",
        definition=linear(node("start", "trigger.manual"), node("pause", "delay", seconds=600), node("end", "output")),
    )
    log = tmp_path / "worker.log"
    worker = worker_process(env, log)
    try:
        sleeping = start(waiting)  # first: the worker runs one step at a time
        wait_for(
            lambda: StepRun.objects.filter(execution=sleeping, node_id="pause", status="waiting").exists(), timeout=60
        )
        live = start(running)
        wait_for(lambda: StepRun.objects.filter(execution=live, node_id="slow", status="running").exists(), timeout=60)
        sweep = subprocess.run(
            [*skewed("+3h"), sys.executable, "manage.py", "recover_executions", "--json"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
        report = json.loads(sweep.stdout.strip().splitlines()[-1])
        assert (report["lost_steps_rerun"], report["woken"], report["timed_out"]) == (0, 0, 0), sweep.stderr
        assert "clock is" in sweep.stderr  # it said it was off, and by how much
        assert StepRun.objects.get(execution=live, node_id="slow").status == "running"
        assert StepRun.objects.get(execution=sleeping, node_id="pause").status == "waiting"
        gate.touch()
        finished = wait_for(lambda: Execution.objects.filter(pk=live.pk, status="completed").first(), timeout=60)
        execution_cancel(execution=sleeping)
    finally:
        stop(worker)
    assert finished.steps.get(node_id="slow").attempt == 1
    assert sorted(path.name.split(".")[1] + path.suffix for path in markers.iterdir()) == ["1.done", "1.started"]
