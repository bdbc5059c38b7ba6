"""``manage.py run_workflow`` and ``manage.py recover_executions``."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.utils import timezone

from executions.models import Execution, StepRun
from tests.engine_fixtures import wait_finished
from tests.factories import ExecutionFactory, WorkflowFactory
from tests.workflows.helpers import linear, node

LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@LIVE
class TestRunWorkflow:
    def test_success_prints_the_output(self, celery_worker):
        workflow = WorkflowFactory()
        out, err = run("run_workflow", str(workflow.pk), "--input", '{"n": 21}')
        assert json.loads(out) == {"result": 42}
        execution = Execution.objects.get(workflow=workflow)
        assert f"Execution {execution.pk} completed" in err
        assert execution.triggered_by == workflow.owner
        assert execution.mode == Execution.Mode.LIVE

    def test_dry_run(self, celery_worker):
        definition = linear(
            node("start", "trigger.manual"), node("wait", "delay", seconds=600), node("out", "output", value="done")
        )
        workflow = WorkflowFactory(definition=definition)
        out, _ = run("run_workflow", str(workflow.pk), "--dry-run", "--timeout", "20")
        assert json.loads(out) == "done"
        assert Execution.objects.get(workflow=workflow).mode == Execution.Mode.DRY_RUN

    def test_a_failed_run_exits_non_zero(self, celery_worker):
        definition = linear(node("start", "trigger.manual"), node("boom", "test.flaky", fail_times=5, retryable=False))
        workflow = WorkflowFactory(definition=definition)
        with pytest.raises(CommandError, match="failed: flaky failure on attempt 1"):
            run("run_workflow", str(workflow.pk))
        assert Execution.objects.get(workflow=workflow).status == Execution.Status.FAILED


@pytest.mark.django_db
class TestRunWorkflowErrors:
    def test_unknown_workflow(self):
        with pytest.raises(CommandError, match="No workflow"):
            run("run_workflow", "00000000-0000-0000-0000-000000000000")
        with pytest.raises(CommandError, match="No workflow"):
            run("run_workflow", "not-a-uuid")

    @pytest.mark.parametrize(
        ("given", "message"),
        [("{nope", "not valid JSON"), ('{"n": "x"}', r"input_data\.n")],
    )
    def test_invalid_input(self, given, message):
        schema = {"type": "object", "properties": {"n": {"type": "integer"}}}
        workflow = WorkflowFactory(definition=linear(node("start", "trigger.manual", input_schema=schema)))
        with pytest.raises(CommandError, match=message):
            run("run_workflow", str(workflow.pk), "--input", given)
        assert not Execution.objects.exists()

    def test_timeout_exits_non_zero(self):
        # Nothing runs here (the start is queued on commit, which a test transaction never reaches).
        workflow = WorkflowFactory()
        with pytest.raises(CommandError, match=r"did not end within 0.2s \(it is queued\)"):
            run("run_workflow", str(workflow.pk), "--input", '{"n": 1}', "--timeout", "0.2")

    @pytest.mark.parametrize(
        ("command", "words"),
        [("run_workflow", ["--input", "--timeout", "--dry-run", "non-zero"]), ("recover_executions", ["sweep"])],
    )
    def test_help_describes_the_command(self, command, words):
        text = load_command_class("executions", command).create_parser("manage.py", command).format_help()
        for word in words:
            assert word in text


@pytest.mark.django_db
def test_recover_executions_prints_an_empty_report():
    out, _ = run("recover_executions")
    assert "starts_requeued" in out
    assert "Recovery sweep done: 0 action(s)." in out
    report = json.loads(run("recover_executions", "--json")[0])
    assert report["timed_out"] == 0
    assert set(report) >= {"starts_requeued", "steps_requeued", "lost_steps_rerun", "woken", "timed_out"}


@LIVE
def test_recover_executions_restarts_a_lost_start(celery_worker):
    """A run committed long ago whose start message never arrived is queued again and runs."""
    execution = ExecutionFactory(
        status=Execution.Status.QUEUED, input_data={"n": 5}, dispatched_at=timezone.now() - timedelta(minutes=5)
    )
    StepRun.objects.bulk_create(
        StepRun(execution=execution, node_id=n["id"], node_type=n["type"])
        for n in execution.workflow_version.definition["nodes"]
    )
    out, _ = run("recover_executions", "--json")
    assert json.loads(out)["starts_requeued"] == 1
    finished = wait_finished(execution.pk)
    assert finished.status == Execution.Status.COMPLETED
    assert finished.output_data == {"result": 10}


class TestScriptIsolation:
    @pytest.fixture(autouse=True)
    def _fresh(self):
        from executions.engine import sandbox

        sandbox.reset()
        yield
        sandbox.reset()

    def test_prints_the_active_isolation(self):
        out, _ = run("script_isolation", "--check")
        assert out.startswith("Script isolation: bubblewrap: bubblewrap ")
        assert "no network" in out

    def test_process_mode_is_a_warning(self, settings):
        settings.FLOWBUILDER_SCRIPT_ISOLATION = "process"
        out, _ = run("script_isolation", "--check")
        assert "Script isolation: process: separate process" in out
        assert "NO filesystem or network isolation" in out

    def test_refused(self, settings):
        settings.FLOWBUILDER_SCRIPT_BWRAP = "/nonexistent/bwrap"
        out, _ = run("script_isolation")
        assert "Script isolation: unavailable (bubblewrap): bubblewrap is not installed" in out
        assert "Script nodes will fail" in out
        with pytest.raises(CommandError, match="bubblewrap is not installed"):
            run("script_isolation", "--check")
