"""The ``script`` node through the engine: inputs from earlier steps, output, logs, failures, refusal."""

from __future__ import annotations

import pytest
from django.db import transaction

from executions.engine import sandbox
from executions.models import Execution, ExecutionLog
from executions.services import execution_start
from tests.engine_fixtures import wait_finished
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

FIB = "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n"


@pytest.fixture(autouse=True)
def _fresh_sandboxes():
    sandbox.reset()
    yield
    sandbox.reset()


@pytest.fixture
def make_workflow(user):
    def make(definition):
        return workflow_create(owner=user, name="scripts", definition=definition)

    return make


def logs_of(execution: Execution, node_id: str) -> list[tuple[str, str]]:
    return list(ExecutionLog.objects.filter(execution=execution, node_id=node_id).values_list("level", "message"))


def pipeline(code: str, **config) -> dict:
    """trigger → prices (transform) → script (inputs from both and a variable) → output."""
    definition = linear(
        node("start", "trigger.manual"),
        node("prices", "transform", value={"items": "{{ input.items }}", "currency": "EUR"}),
        node(
            "calc",
            "script",
            code=code,
            inputs={"items": "{{ steps.prices.output.items }}", "n": "{{ input.n }}", "label": "{{ vars.label }}"},
            **config,
        ),
        node("out", "output", value={"result": "{{ steps.calc.output }}"}),
    )
    definition["variables"] = {"label": "weekly"}
    return definition


@pytest.mark.django_db
class TestInline:
    def test_fib_10_with_inputs_from_earlier_steps_and_prints_as_logs(self, inline_engine, make_workflow):
        code = (
            FIB + "print('items:', len(inputs['items']))\n"
            "print('label:', inputs['label'])\n"
            "output = {'fib': fib(inputs['n']), 'total': sum(inputs['items'])}\n"
        )
        execution = inline_engine.run(make_workflow(pipeline(code)), {"items": [1, 2, 3.5], "n": 10})
        assert execution.status == "completed", execution.error
        assert execution.output_data == {"result": {"fib": 55, "total": 6.5}}
        assert logs_of(execution, "calc") == [("info", "items: 3"), ("info", "label: weekly")]
        step = execution.steps.get(node_id="calc")
        assert (step.status, step.output) == ("completed", {"fib": 55, "total": 6.5})

    def test_an_exception_fails_the_step_with_the_script_traceback(self, inline_engine, make_workflow):
        execution = inline_engine.run(
            make_workflow(pipeline("print('checking')\nraise ValueError(f\"bad n: {inputs['n']}\")")),
            {"items": [], "n": 3},
        )
        assert execution.status == "failed"
        step = execution.steps.get(node_id="calc")
        assert step.status == "failed"
        assert step.error["message"].endswith("ValueError: bad n: 3")
        assert 'File "<script>", line 2' in step.error["message"]
        assert ("info", "checking") in logs_of(execution, "calc")
        assert step.attempt == 1  # a script's own failure is not retried by default...

    def test_a_syntax_error_fails_without_retries_even_with_a_retry_policy(self, inline_engine, make_workflow):
        definition = pipeline("output = (")
        definition["nodes"][2]["retry"] = {"max_attempts": 3, "backoff_seconds": 1}
        execution = inline_engine.run(make_workflow(definition), {"items": [], "n": 1})
        step = execution.steps.get(node_id="calc")
        assert (execution.status, step.attempt) == ("failed", 1)  # ...and never when it cannot succeed
        assert "SyntaxError: '(' was never closed" in step.error["message"]

    def test_a_timeout_is_retried_per_the_node_policy(self, inline_engine, make_workflow):
        definition = pipeline("while True:\n    pass", timeout_seconds=1)
        definition["nodes"][2]["retry"] = {"max_attempts": 2, "backoff_seconds": 1}
        execution = inline_engine.run(make_workflow(definition), {"items": [], "n": 1})
        assert execution.steps.get(node_id="calc").status == "retrying"
        inline_engine.run_deferred()
        execution.refresh_from_db()
        step = execution.steps.get(node_id="calc")
        assert (execution.status, step.attempt) == ("failed", 2)
        assert step.error["message"] == "The script timed out after 1 s and was stopped"

    def test_the_node_timeout_is_the_tighter_one(self, inline_engine, make_workflow):
        definition = pipeline("while True:\n    pass", timeout_seconds=60)
        definition["nodes"][2]["timeout_seconds"] = 1
        execution = inline_engine.run(make_workflow(definition), {"items": [], "n": 1})
        assert execution.steps.get(node_id="calc").error["message"] == (
            "The script timed out after 1 s and was stopped"
        )

    def test_limits_from_templates(self, inline_engine, make_workflow):
        definition = pipeline("data = bytearray(200 * 2 ** 20)", memory_mb="{{ input.n }}")
        execution = inline_engine.run(make_workflow(definition), {"items": [], "n": 64})
        assert "its limit is 64 MB" in execution.steps.get(node_id="calc").error["message"]

    def test_dry_run_runs_the_script_for_real(self, inline_engine, make_workflow):
        execution = inline_engine.run(
            make_workflow(pipeline(FIB + "print('real')\noutput = fib(inputs['n'])")),
            {"items": [], "n": 10},
            mode=Execution.Mode.DRY_RUN,
        )
        assert (execution.status, execution.output_data) == ("completed", {"result": 55})
        assert logs_of(execution, "calc") == [("info", "real")]

    def test_refused_without_isolation(self, inline_engine, make_workflow, settings):
        settings.FLOWBUILDER_SCRIPT_BWRAP = "/nonexistent/bwrap"
        definition = pipeline("output = 1")
        definition["nodes"][2]["retry"] = {"max_attempts": 3, "backoff_seconds": 1}
        execution = inline_engine.run(make_workflow(definition), {"items": [], "n": 1})
        step = execution.steps.get(node_id="calc")
        assert (execution.status, step.status, step.attempt) == ("failed", "failed", 1)
        assert step.error["message"].startswith("Scripts cannot run here: bubblewrap is not installed")
        assert "FLOWBUILDER_SCRIPT_ISOLATION=process" in step.error["message"]

    def test_process_mode_runs_with_a_warning_in_the_log(self, inline_engine, make_workflow, settings):
        settings.FLOWBUILDER_SCRIPT_ISOLATION = "process"
        execution = inline_engine.run(
            make_workflow(pipeline(FIB + "print('ok')\noutput = fib(inputs['n'])")), {"items": [], "n": 10}
        )
        assert (execution.status, execution.output_data) == ("completed", {"result": 55})
        logs = logs_of(execution, "calc")
        assert logs[0][0] == "warning"
        assert "FLOWBUILDER_SCRIPT_ISOLATION=process" in logs[0][1]
        assert "no filesystem or network isolation" in logs[0][1]
        assert logs[1:] == [("info", "ok")]


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_on_a_celery_worker(celery_worker, make_workflow):
    definition = linear(
        node("start", "trigger.manual"),
        *(
            node(f"s{i}", "script", code=FIB + f"print('step {i}')\noutput = fib(inputs['n']) + {i}", inputs={"n": 10})
            for i in range(3)
        ),
        node("out", "output", value=["{{ steps.s0.output }}", "{{ steps.s1.output }}", "{{ steps.s2.output }}"]),
    )
    workflow = make_workflow(definition)
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data={})
    execution = wait_finished(execution.pk, timeout=60)
    assert (execution.status, execution.output_data) == ("completed", [55, 56, 57])
    assert [logs_of(execution, f"s{i}") for i in range(3)] == [[("info", f"step {i}")] for i in range(3)]


@pytest.mark.django_db
def test_nul_characters_are_stored_as_replacement_characters(inline_engine, make_workflow):
    """PostgreSQL's jsonb cannot hold \\u0000: a step's output, logs and error are stored with U+FFFD instead."""
    code = "print('line\\x00one')\noutput = {'text': 'a\\x00b', 'key\\x00': ['\\x00']}"
    definition = linear(node("start", "trigger.manual"), node("calc", "script", code=code))
    execution = inline_engine.run(make_workflow(definition), {})
    assert execution.status == "completed", execution.error
    assert execution.steps.get(node_id="calc").output == {"text": "a\ufffdb", "key\ufffd": ["\ufffd"]}
    assert logs_of(execution, "calc") == [("info", "line\ufffdone")]

    failing = linear(node("start", "trigger.manual"), node("calc", "script", code="raise ValueError('bad\\x00byte')"))
    execution = inline_engine.run(make_workflow(failing), {})
    assert execution.status == "failed"
    assert execution.steps.get(node_id="calc").error["message"].endswith("ValueError: bad\ufffdbyte")
