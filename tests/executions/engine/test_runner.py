"""The runner's decisions, driven in-thread: readiness, skip propagation, merges, errors, waits, children.

These use an in-thread dispatcher (tests/engine_fixtures.py) so each run is
deterministic; tests/executions/engine/test_engine_celery.py runs the same
engine on a real Celery worker.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from executions.engine import recovery, runner
from executions.engine.dispatch import install
from executions.models import Execution, ExecutionLog, StepRun
from executions.services import approval_decide, execution_cancel, execution_retry, execution_start
from flowbuilder.api.errors import RateLimited
from tests.engine_fixtures import DroppingDispatcher
from tests.workflows.helpers import edge, linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def make_workflow(user):
    def make(definition, **kwargs):
        return workflow_create(
            owner=kwargs.pop("owner", user), name=kwargs.pop("name", "wf"), definition=definition, **kwargs
        )

    return make


def statuses(execution: Execution) -> dict[str, str]:
    return dict(execution.steps.values_list("node_id", "status"))


def branchy(*extra_nodes, edges=()):
    """trigger → check (input.go) with whatever hangs off it."""
    return {
        "nodes": [
            node("start", "trigger.manual"),
            node("check", "condition", expression="{{ input.go }}"),
            *extra_nodes,
        ],
        "edges": [edge("start", "check"), *edges],
    }


class TestLinear:
    def test_inline_chain_runs_in_one_go(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"),
            node("a", "transform", value="{{ input.n + 1 }}"),
            node("b", "transform", value="{{ steps.a.output * 2 }}"),
            node("out", "output", value={"b": "{{ steps.b.output }}", "a": "{{ steps.a.output }}"}),
        )
        execution = inline_engine.run(make_workflow(definition), {"n": 1})
        assert execution.status == "completed"
        assert execution.output_data == {"a": 2, "b": 4}
        assert execution.progress == 100
        assert execution.current_step == ""
        assert inline_engine.dispatcher.started == [execution.pk]  # one message for the whole run

    def test_leaf_outputs_without_an_output_node(self, inline_engine, make_workflow):
        definition = {
            "nodes": [
                node("start", "trigger.manual"),
                node("x", "transform", value=1),
                node("y", "transform", value=2),
            ],
            "edges": [edge("start", "x"), edge("start", "y")],
        }
        assert inline_engine.run(make_workflow(definition)).output_data == {"x": 1, "y": 2}

    def test_dispatched_steps_run_and_see_earlier_outputs(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"),
            node("f", "test.flaky", value="{{ input.word | upper }}"),
            node("out", "output", value="{{ steps.f.output.value }}!"),
        )
        execution = inline_engine.run(make_workflow(definition), {"word": "hi"})
        assert (execution.status, execution.output_data) == ("completed", "HI!")


class TestBranches:
    def test_untaken_branch_and_its_subtree_are_skipped(self, inline_engine, make_workflow):
        definition = branchy(
            node("yes", "transform", value="yes"),
            node("yes_after", "transform", value="after"),
            node("no", "transform", value="no"),
            edges=[edge("check", "yes", "true"), edge("yes", "yes_after"), edge("check", "no", "false")],
        )
        workflow = make_workflow(definition)
        ran = inline_engine.run(workflow, {"go": True})
        assert statuses(ran) == {
            "start": "completed",
            "check": "completed",
            "yes": "completed",
            "yes_after": "completed",
            "no": "skipped",
        }
        assert ran.output_data == {"yes_after": "after"}
        other = inline_engine.run(workflow, {"go": False})
        assert statuses(other)["yes"] == statuses(other)["yes_after"] == "skipped"
        assert other.output_data == {"no": "no"}

    def test_merge_after_a_skipped_branch_runs_with_the_taken_one(self, inline_engine, make_workflow):
        definition = branchy(
            node("a", "transform", value="A"),
            node("b", "transform", value="B"),
            node("m", "merge"),
            node("after", "transform", value="{{ steps.m.output }}"),
            edges=[
                edge("check", "a", "true"),
                edge("check", "b", "false"),
                edge("a", "m"),
                edge("b", "m"),
                edge("m", "after"),
            ],
        )
        execution = inline_engine.run(make_workflow(definition), {"go": False})
        assert execution.status == "completed"
        assert statuses(execution)["a"] == "skipped"
        assert execution.output_data == {"after": {"b": "B"}}

    def test_join_after_a_condition_runs_whichever_side_was_taken(self, inline_engine, make_workflow):
        """none_failed_min_one_success: the two sides of an IF meet again without a merge."""
        definition = branchy(
            node("a", "transform", value="A"),
            node("b", "transform", value="B"),
            node("join", "transform", value="{{ (steps.a.output or steps.b.output) ~ '!' }}"),
            edges=[edge("check", "a", "true"), edge("check", "b", "false"), edge("a", "join"), edge("b", "join")],
        )
        workflow = make_workflow(definition)
        for go, side, other in ((True, "A", "b"), (False, "B", "a")):
            execution = inline_engine.run(workflow, {"go": go})
            assert (execution.status, execution.output_data) == ("completed", {"join": f"{side}!"})
            assert (statuses(execution)[other], statuses(execution)["join"]) == ("skipped", "completed")

    def test_join_fed_by_a_taken_edge_and_a_skipped_branch_runs(self, inline_engine, make_workflow):
        definition = branchy(
            node("a", "transform", value="A"),
            node("join", "transform", value="joined"),
            edges=[edge("check", "a", "true"), edge("a", "join"), edge("start", "join")],
        )
        execution = inline_engine.run(make_workflow(definition), {"go": False})
        assert (statuses(execution)["a"], statuses(execution)["join"]) == ("skipped", "completed")
        assert execution.output_data == {"join": "joined"}

    def test_join_is_skipped_only_when_no_input_was_taken(self, inline_engine, make_workflow):
        definition = branchy(
            node("a", "transform", value="A"),
            node("b", "transform", value="B"),
            node("join", "transform", value="joined"),
            node("after", "transform", value="after"),
            node("no", "transform", value="no"),
            edges=[
                edge("check", "a", "true"),
                edge("check", "b", "true"),
                edge("a", "join"),
                edge("b", "join"),
                edge("join", "after"),
                edge("check", "no", "false"),
            ],
        )
        execution = inline_engine.run(make_workflow(definition), {"go": False})
        assert {k: v for k, v in statuses(execution).items() if v == "skipped"} == {
            "a": "skipped", "b": "skipped", "join": "skipped", "after": "skipped"
        }  # fmt: skip
        assert (execution.status, execution.output_data) == ("completed", {"no": "no"})

    def test_join_after_a_switch(self, inline_engine, make_workflow):
        definition = {
            "nodes": [
                node("start", "trigger.manual"),
                node(
                    "route",
                    "switch",
                    value="{{ input.kind }}",
                    cases=[{"port": "bug", "equals": "bug"}, {"port": "idea", "equals": "idea"}],
                ),
                node("bug", "transform", value="triage"),
                node("idea", "transform", value="backlog"),
                node(
                    "join",
                    "transform",
                    value="{{ steps.bug.output or steps.idea.output or 'other' }}",
                ),
            ],
            "edges": [
                edge("start", "route"),
                edge("route", "bug", "bug"),
                edge("route", "idea", "idea"),
                edge("route", "join", "default"),
                edge("bug", "join"),
                edge("idea", "join"),
            ],
        }
        workflow = make_workflow(definition)
        for kind, expected in (("bug", "triage"), ("idea", "backlog"), ("question", "other")):
            execution = inline_engine.run(workflow, {"kind": kind})
            assert (execution.status, execution.output_data) == ("completed", {"join": expected}), kind

    def test_diamond_both_taken(self, inline_engine, make_workflow):
        definition = {
            "nodes": [
                node("start", "trigger.manual"),
                node("l", "transform", value=1),
                node("r", "test.flaky", value=2),
                node("join", "transform", value="{{ steps.l.output + steps.r.output.value }}"),
            ],
            "edges": [edge("start", "l"), edge("start", "r"), edge("l", "join"), edge("r", "join")],
        }
        execution = inline_engine.run(make_workflow(definition))
        assert execution.output_data == {"join": 3}

    def test_nested_branches(self, inline_engine, make_workflow):
        definition = branchy(
            node("inner", "condition", expression="input.level > 1"),
            node("deep", "transform", value="deep"),
            node("shallow", "transform", value="shallow"),
            node("m", "merge"),
            node("else", "transform", value="else"),
            edges=[
                edge("check", "inner", "true"),
                edge("check", "else", "false"),
                edge("inner", "deep", "true"),
                edge("inner", "shallow", "false"),
                edge("deep", "m"),
                edge("shallow", "m"),
            ],
        )
        workflow = make_workflow(definition)
        deep = inline_engine.run(workflow, {"go": True, "level": 2})
        assert statuses(deep) | {} == {
            "start": "completed", "check": "completed", "inner": "completed", "deep": "completed",
            "shallow": "skipped", "m": "completed", "else": "skipped",
        }  # fmt: skip
        assert deep.output_data == {"m": {"deep": "deep"}}
        skipped = inline_engine.run(workflow, {"go": False, "level": 2})
        assert {k: v for k, v in statuses(skipped).items() if v == "skipped"} == {
            "inner": "skipped", "deep": "skipped", "shallow": "skipped", "m": "skipped"
        }  # fmt: skip

    def test_merge_first_does_not_wait(self, inline_engine, make_workflow):
        definition = {
            "nodes": [
                node("start", "trigger.manual"),
                node("fast", "transform", value="fast"),
                node("slow", "test.slow", seconds=0, value="slow"),
                node("m", "merge", mode="first"),
            ],
            "edges": [edge("start", "fast"), edge("start", "slow"), edge("fast", "m"), edge("slow", "m")],
        }
        execution = inline_engine.run(make_workflow(definition))
        merge = execution.steps.get(node_id="m")
        assert merge.output == {"fast": "fast"}

    def test_switch(self, inline_engine, make_workflow):
        definition = {
            "nodes": [
                node("start", "trigger.manual"),
                node(
                    "route",
                    "switch",
                    value="{{ input.plan }}",
                    cases=[{"port": "pro", "equals": "pro"}, {"port": "free", "equals": "free"}],
                ),
                node("pro", "transform", value="P"),
                node("free", "transform", value="F"),
                node("other", "transform", value="O"),
            ],
            "edges": [
                edge("start", "route"),
                edge("route", "pro", "pro"),
                edge("route", "free", "free"),
                edge("route", "other", "default"),
            ],
        }
        workflow = make_workflow(definition)
        assert inline_engine.run(workflow, {"plan": "free"}).output_data == {"free": "F"}
        assert inline_engine.run(workflow, {"plan": "gold"}).output_data == {"other": "O"}

    def test_disabled_node_passes_through(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"), node("off", "transform", value=1), node("after", "transform", value=2)
        )
        definition["nodes"][1]["disabled"] = True
        execution = inline_engine.run(make_workflow(definition))
        assert statuses(execution) == {"start": "completed", "off": "skipped", "after": "completed"}


class TestErrors:
    def failing(self, on_error=None, retry=None, retryable=True):
        definition = linear(
            node("start", "trigger.manual"),
            node("bad", "test.flaky", fail_times=9, retryable=retryable),
            node("after", "transform", value="after"),
        )
        reads = "steps.bad.output.error" if on_error == "error_port" else "steps.bad.status"
        definition["nodes"].append(node("handler", "transform", value=f"{{{{ {reads} }}}}"))
        if on_error:
            definition["nodes"][1]["on_error"] = on_error
        if retry:
            definition["nodes"][1]["retry"] = retry
        if on_error == "error_port":
            definition["edges"].append(edge("bad", "handler", "error"))
        else:
            definition["edges"].append(edge("after", "handler"))
        return definition

    def test_stop_fails_the_run_and_cancels_the_rest(self, inline_engine, make_workflow):
        execution = inline_engine.run(make_workflow(self.failing()))
        assert execution.status == "failed"
        assert execution.error == {"message": "flaky failure on attempt 1", "node_id": "bad"}
        assert statuses(execution)["after"] == "cancelled"
        assert ExecutionLog.objects.filter(execution=execution, level="error", node_id="bad").exists()

    def test_continue(self, inline_engine, make_workflow):
        execution = inline_engine.run(make_workflow(self.failing("continue")))
        assert execution.status == "completed"
        assert statuses(execution)["bad"] == "failed"
        assert statuses(execution)["after"] == "completed"
        assert execution.output_data == {"handler": "failed"}

    def test_error_port(self, inline_engine, make_workflow):
        execution = inline_engine.run(make_workflow(self.failing("error_port")))
        assert execution.status == "completed"
        assert statuses(execution)["after"] == "skipped"
        assert execution.output_data == {"handler": "flaky failure on attempt 1"}

    def test_retries_with_backoff_then_succeeds(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("f", "test.flaky", fail_times=2))
        definition["nodes"][1]["retry"] = {"max_attempts": 3, "backoff_seconds": 2, "backoff_max_seconds": 3}
        execution = inline_engine.run(make_workflow(definition))
        step = execution.steps.get(node_id="f")
        assert (execution.status, step.status, step.attempt) == ("running", "retrying", 1)
        assert [d[2] for d in inline_engine.dispatcher.deferred] == [2]
        inline_engine.run_deferred()
        assert [d[2] for d in inline_engine.dispatcher.deferred] == []  # the second backoff ran inside run_deferred
        execution.refresh_from_db()
        step.refresh_from_db()
        assert (execution.status, step.attempt, step.output["attempt"]) == ("completed", 3, 3)
        warnings = ExecutionLog.objects.filter(execution=execution, level="warning").values_list("message", flat=True)
        assert [w.split(";")[1].strip() for w in warnings] == ["retrying in 2s", "retrying in 3s"]  # capped

    def test_retries_exhausted(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("f", "test.flaky", fail_times=5))
        definition["nodes"][1]["retry"] = {"max_attempts": 2, "backoff_seconds": 0}
        execution = inline_engine.run(make_workflow(definition))
        assert execution.status == "failed"
        assert execution.steps.get(node_id="f").attempt == 2

    def test_non_retryable_is_not_retried(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("f", "test.flaky", fail_times=5, retryable=False))
        definition["nodes"][1]["retry"] = {"max_attempts": 3, "backoff_seconds": 0}
        execution = inline_engine.run(make_workflow(definition))
        assert (execution.status, execution.steps.get(node_id="f").attempt) == ("failed", 1)

    def test_expression_error_names_the_field(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"), node("t", "transform", value={"x": "{{ input.missing.deeper }}"})
        )
        execution = inline_engine.run(make_workflow(definition), {})
        assert execution.status == "failed"
        assert execution.error["message"].startswith("config.value.x:")

    def test_rendered_value_of_the_wrong_type(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("wait", "delay", seconds="{{ input.how_long }}"))
        execution = inline_engine.run(make_workflow(definition), {"how_long": "soon"})
        assert execution.status == "failed"
        assert "config.seconds" in execution.error["message"]

    def test_step_output_limit(self, inline_engine, make_workflow, settings):
        settings.FLOWBUILDER_MAX_STEP_OUTPUT_BYTES = 1000
        definition = linear(node("start", "trigger.manual"), node("big", "transform", value="{{ 'x' * 2000 }}"))
        execution = inline_engine.run(make_workflow(definition))
        assert execution.status == "failed"
        assert execution.error["message"] == "The step's output is 2,002 bytes; the limit is 1,000"


class TestOneAttemptPath:
    """Inline, dispatched and resumed attempts go through runner.attempt: the same failures, the same logs."""

    def logs_of(self, execution):
        return list(ExecutionLog.objects.filter(execution=execution, node_id="x").values_list("message", flat=True))

    @pytest.mark.parametrize("kind", ["node_error", "bug"])
    def test_an_inline_node_that_fails_keeps_its_log_lines(self, inline_engine, make_workflow, kind):
        definition = linear(node("start", "trigger.manual"), node("x", "test.fragile", **{"raise": kind}))
        execution = inline_engine.run(make_workflow(definition))
        step = execution.steps.get(node_id="x")
        assert (execution.status, step.status) == ("failed", "failed")
        message = "RuntimeError: a bug while executing" if kind == "bug" else "refused while executing"
        assert step.error["message"] == message
        assert self.logs_of(execution)[0] == "executing x"

    @pytest.mark.parametrize("kind", ["node_error", "bug"])
    def test_a_resumed_node_that_fails_fails_its_step_and_keeps_its_logs(self, inline_engine, make_workflow, kind):
        definition = linear(
            node("start", "trigger.manual"),
            node("x", "test.fragile", wait=True, **{"raise": kind}),
            node("after", "transform", value="never"),
        )
        execution = inline_engine.run(make_workflow(definition))
        assert execution.status == "waiting"
        step = execution.steps.get(node_id="x")
        StepRun.objects.filter(pk=step.pk).update(wake_at=timezone.now() - timedelta(seconds=1))
        # Before: a bug in resume() raised out of the runner (and the sweep), the step stayed waiting.
        assert inline_engine.drive(lambda: runner.wake_due_step(step.pk)) is True
        execution.refresh_from_db()
        step.refresh_from_db()
        assert (execution.status, step.status, statuses(execution)["after"]) == ("failed", "failed", "cancelled")
        message = "RuntimeError: a bug while resuming" if kind == "bug" else "refused while resuming"
        assert step.error["message"] == message
        assert self.logs_of(execution)[:2] == ["waiting x", "resuming x"]


class TestWaiting:
    def test_delay_holds_no_worker_and_wakes_by_the_sweep(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"),
            node("wait", "delay", seconds=3600),
            node("after", "transform", value="done"),
        )
        execution = inline_engine.run(make_workflow(definition))
        step = execution.steps.get(node_id="wait")
        assert (execution.status, step.status) == ("waiting", "waiting")
        assert step.wake_at > timezone.now() + timedelta(minutes=59)
        assert inline_engine.dispatcher.deferred == []  # an hour is not a broker countdown
        assert inline_engine.drive(recovery.sweep).woken == 0
        StepRun.objects.filter(pk=step.pk).update(wake_at=timezone.now() - timedelta(seconds=1))
        assert inline_engine.drive(recovery.sweep).woken == 1
        execution.refresh_from_db()
        assert (execution.status, execution.output_data) == ("completed", {"after": "done"})
        assert inline_engine.drive(recovery.sweep).woken == 0

    def test_short_delay_uses_a_countdown(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("wait", "delay", seconds=5))
        execution = inline_engine.run(make_workflow(definition))
        assert inline_engine.dispatcher.deferred[0][0] == "wake_step"
        StepRun.objects.filter(execution=execution).update(wake_at=timezone.now())
        inline_engine.run_deferred()
        execution.refresh_from_db()
        assert execution.status == "completed"

    def test_cancel_during_a_delay(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"), node("wait", "delay", seconds=600), node("after", "transform", value=1)
        )
        execution = inline_engine.run(make_workflow(definition))
        cancelled = inline_engine.drive(lambda: execution_cancel(execution=execution))
        assert cancelled.status == "cancelled"
        assert statuses(cancelled) == {"start": "completed", "wait": "cancelled", "after": "cancelled"}
        StepRun.objects.filter(execution=execution).update(wake_at=timezone.now())
        assert inline_engine.drive(recovery.sweep).woken == 0

    def approval_definition(self, **config):
        return {
            "nodes": [
                node("start", "trigger.manual"),
                node("ask", "approval", message="Refund {{ input.amount }}?", **config),
                node("refund", "transform", value="refunded"),
                node("deny", "transform", value="denied"),
            ],
            "edges": [edge("start", "ask"), edge("ask", "refund", "approved"), edge("ask", "deny", "rejected")],
        }

    def test_approval_approved_by_the_owner(self, inline_engine, make_workflow, user):
        execution = inline_engine.run(make_workflow(self.approval_definition()), {"amount": 30})
        assert execution.status == "waiting"
        assert ExecutionLog.objects.filter(execution=execution, message="Waiting for approval: Refund 30?").exists()
        decided = inline_engine.drive(
            lambda: approval_decide(execution=execution, node_id="ask", actor=user, approved=True, comment="ok")
        )
        assert decided.output_data == {"refund": "refunded"}
        assert decided.steps.get(node_id="ask").output == {"approved": True, "by": user.email, "comment": "ok"}

    def test_join_after_an_approval_runs_on_either_decision(self, inline_engine, make_workflow, user):
        definition = self.approval_definition()
        definition["nodes"].append(node("notify", "transform", value="{{ 'done: ' ~ steps.ask.output.approved }}"))
        definition["edges"] += [edge("refund", "notify"), edge("deny", "notify")]
        workflow = make_workflow(definition)
        for approved in (True, False):
            execution = inline_engine.run(workflow, {"amount": 5})
            assert execution.status == "waiting"
            decided = inline_engine.drive(
                lambda execution=execution, approved=approved: approval_decide(
                    execution=execution, node_id="ask", actor=user, approved=approved
                )
            )
            assert (decided.status, decided.output_data) == ("completed", {"notify": f"done: {approved}"})
            assert statuses(decided)["refund" if not approved else "deny"] == "skipped"

    def test_approval_by_named_approver_only(self, inline_engine, make_workflow, make_user, user):
        approver, stranger = make_user(), make_user()
        execution = inline_engine.run(
            make_workflow(self.approval_definition(approvers=[approver.email])), {"amount": 5}
        )
        from flowbuilder.api.errors import Forbidden

        with pytest.raises(Forbidden):
            approval_decide(execution=execution, node_id="ask", actor=stranger, approved=True)
        decided = inline_engine.drive(
            lambda: approval_decide(execution=execution, node_id="ask", actor=approver, approved=False)
        )
        assert decided.output_data == {"deny": "denied"}

    def test_approval_times_out_as_rejected(self, inline_engine, make_workflow):
        execution = inline_engine.run(make_workflow(self.approval_definition(timeout_seconds=60)), {"amount": 5})
        StepRun.objects.filter(execution=execution, node_id="ask").update(wake_at=timezone.now())
        inline_engine.drive(recovery.sweep)
        execution.refresh_from_db()
        assert execution.output_data == {"deny": "denied"}
        assert execution.steps.get(node_id="ask").output["comment"] == "No decision within 60 seconds"


class TestChildren:
    def child_workflow(self, make_workflow, fail_on=None):
        fails = f"{{{{ (input.x * 10) if input.x != {fail_on} else input.nope.deeper }}}}"
        value = "{{ input.x * 10 }}" if fail_on is None else fails
        return make_workflow(
            linear(node("start", "trigger.manual"), node("times", "transform", value=value)), name="child"
        )

    def test_sub_workflow_returns_the_childs_output(self, inline_engine, make_workflow):
        child = self.child_workflow(make_workflow)
        parent = make_workflow(
            linear(
                node("start", "trigger.manual"),
                node("sub", "sub_workflow", workflow_id=str(child.pk), input={"x": "{{ input.x }}"}),
            )
        )
        execution = inline_engine.run(parent, {"x": 4})
        assert (execution.status, execution.output_data) == ("completed", {"sub": {"times": 40}})
        kid = Execution.objects.get(parent=execution)
        assert (kid.trigger, kid.status) == ("sub_workflow", "completed")

    def test_sub_workflow_failure_fails_the_step(self, inline_engine, make_workflow):
        child = self.child_workflow(make_workflow, fail_on=1)
        parent = make_workflow(
            linear(
                node("start", "trigger.manual"), node("sub", "sub_workflow", workflow_id=str(child.pk), input={"x": 1})
            )
        )
        execution = inline_engine.run(parent)
        assert execution.status == "failed"
        assert "The sub-workflow run" in execution.error["message"]

    def test_someone_elses_workflow_is_not_found(self, inline_engine, make_workflow, make_user):
        theirs = self.child_workflow(make_workflow).__class__.objects.create(owner=make_user(), name="x", definition={})
        parent = make_workflow(
            linear(node("start", "trigger.manual"), node("sub", "sub_workflow", workflow_id=str(theirs.pk)))
        )
        execution = inline_engine.run(parent)
        assert execution.status == "failed"
        assert "not found" in execution.error["message"]

    def test_for_each_keeps_item_order_with_bounded_parallelism(self, inline_engine, make_workflow):
        child = self.child_workflow(make_workflow)
        parent = make_workflow(
            linear(
                node("start", "trigger.manual"),
                node(
                    "loop",
                    "for_each",
                    items="{{ input.xs }}",
                    workflow_id=str(child.pk),
                    input={"x": "{{ item }}"},
                    parallelism=3,
                ),
            )
        )
        execution = inline_engine.run(parent, {"xs": [5, 1, 4, 2, 3, 9, 7]})
        assert execution.status == "completed"
        assert execution.output_data == {"loop": [{"times": v * 10} for v in [5, 1, 4, 2, 3, 9, 7]]}
        assert sorted(Execution.objects.filter(parent=execution).values_list("child_index", flat=True)) == list(
            range(7)
        )

    def test_for_each_reports_failed_items(self, inline_engine, make_workflow):
        child = self.child_workflow(make_workflow, fail_on=2)
        parent = make_workflow(
            linear(
                node("start", "trigger.manual"),
                node("loop", "for_each", items=[1, 2, 3], workflow_id=str(child.pk), input={"x": "{{ item }}"}),
            )
        )
        execution = inline_engine.run(parent)
        assert execution.status == "failed"
        assert execution.error["message"] == "1 of 3 items failed (items 1)"

    def test_for_each_item_limit(self, inline_engine, make_workflow):
        child = self.child_workflow(make_workflow)
        parent = make_workflow(
            linear(
                node("start", "trigger.manual"),
                node("loop", "for_each", items="{{ range(10001) | list }}", workflow_id=str(child.pk)),
            )
        )
        execution = inline_engine.run(parent)
        assert execution.error["message"] == "config.items has 10,001 items; the limit is 10,000"

    def test_recursion_is_bounded(self, inline_engine, make_workflow, settings):
        settings.FLOWBUILDER_MAX_WORKFLOW_DEPTH = 3
        workflow = make_workflow(linear(node("start", "trigger.manual"), node("self", "transform", value=1)))
        from workflows.services import workflow_update

        definition = linear(
            node("start", "trigger.manual"), node("again", "sub_workflow", workflow_id=str(workflow.pk))
        )
        workflow = workflow_update(workflow=workflow, actor=workflow.owner, definition=definition)
        execution = inline_engine.run(workflow)
        assert execution.status == "failed"
        assert Execution.objects.count() == 3
        assert (
            "nest deeper than 3"
            in Execution.objects.filter(parent__isnull=False).order_by("created_at").last().error["message"]
        )


class TestRunPolicies:
    def test_dry_run_simulates_waits(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"),
            node("wait", "delay", seconds=600),
            node("ask", "approval", message="ok?"),
            node("done", "transform", value=1),
        )
        definition["edges"][-1]["source_port"] = "approved"
        execution = inline_engine.run(make_workflow(definition), mode=Execution.Mode.DRY_RUN)
        assert execution.status == "completed"
        assert execution.steps.get(node_id="wait").output == {
            "waited_seconds": 0,
            "simulated": True,
            "would_wait_seconds": 600.0,
        }

    def test_idempotency_key(self, inline_engine, make_workflow):
        workflow = make_workflow(linear(node("start", "trigger.manual"), node("a", "transform", value=1)))
        first = inline_engine.run(workflow, idempotency_key="abc")
        second = inline_engine.run(workflow, idempotency_key="abc")
        assert first.pk == second.pk
        assert Execution.objects.count() == 1

    def concurrency_workflow(self, make_workflow, policy):
        definition = linear(node("start", "trigger.manual"), node("wait", "delay", seconds=600))
        definition["settings"] = {"max_concurrency": 1, "concurrency_policy": policy}
        return make_workflow(definition)

    def test_max_concurrency_queue_holds_the_next_run(self, inline_engine, make_workflow):
        workflow = self.concurrency_workflow(make_workflow, "queue")
        first = inline_engine.run(workflow)
        second = inline_engine.run(workflow)
        assert (first.status, second.status, second.dispatched_at) == ("waiting", "queued", None)
        inline_engine.drive(lambda: execution_cancel(execution=first))
        second.refresh_from_db()
        assert second.status == "waiting"  # started once the first ended

    def test_max_concurrency_reject(self, inline_engine, make_workflow):
        workflow = self.concurrency_workflow(make_workflow, "reject")
        inline_engine.run(workflow)
        with pytest.raises(RateLimited):
            inline_engine.run(workflow)

    def test_workflow_timeout(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("wait", "delay", seconds=600))
        definition["settings"] = {"timeout_seconds": 30}
        execution = inline_engine.run(make_workflow(definition))
        Execution.objects.filter(pk=execution.pk).update(deadline=timezone.now() - timedelta(seconds=1))
        assert inline_engine.drive(recovery.sweep).timed_out == 1
        execution.refresh_from_db()
        assert execution.status == "timed_out"
        assert statuses(execution)["wait"] == "cancelled"

    def test_retry_reuses_what_succeeded(self, inline_engine, make_workflow, tmp_path):
        fixed = tmp_path / "fixed"
        definition = linear(
            node("start", "trigger.manual"),
            node("once", "test.flaky", value=1),
            node("bad", "test.flaky", fail_unless_exists=str(fixed)),
            node("end", "transform", value=2),
        )
        failed = inline_engine.run(make_workflow(definition))
        assert failed.status == "failed"
        kept = failed.steps.get(node_id="once")
        fixed.touch()  # whatever made it fail is fixed
        retry = inline_engine.drive(lambda: execution_retry(execution=failed, actor=None))
        retry.refresh_from_db()
        assert retry.status == "completed"
        assert retry.retry_of_id == failed.pk
        reused = retry.steps.get(node_id="once")
        assert (reused.started_at, reused.attempt) == (kept.started_at, kept.attempt)
        assert retry.steps.get(node_id="bad").attempt == 1  # a fresh attempt count


class TestDurability:
    def test_duplicate_delivery_does_nothing(self, inline_engine, make_workflow):
        definition = linear(
            node("start", "trigger.manual"), node("f", "test.flaky", value=1), node("after", "transform", value=2)
        )
        execution = inline_engine.run(make_workflow(definition))
        step = execution.steps.get(node_id="f")
        events_before = Execution.objects.get(pk=execution.pk).event_seq
        inline_engine.drive(lambda: runner.execute_step(step.pk))
        inline_engine.drive(lambda: runner.start_execution(execution.pk))
        step.refresh_from_db()
        assert step.attempt == 1
        assert Execution.objects.get(pk=execution.pk).event_seq == events_before

    def test_late_result_of_a_superseded_attempt_is_discarded(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1))
        execution = inline_engine.run(make_workflow(definition))
        step = execution.steps.get(node_id="f")
        assert runner.complete_step(step.pk, 1, runner.Outcome(error="too late")) is False
        step.refresh_from_db()
        assert step.status == "completed"

    def test_crash_between_commit_and_enqueue_is_recovered(self, inline_engine, make_workflow, settings):
        workflow = make_workflow(linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1)))
        install(DroppingDispatcher())
        execution = inline_engine.run(workflow)
        assert execution.status == "queued"
        install(inline_engine.dispatcher)
        assert inline_engine.drive(recovery.sweep).starts_requeued == 0  # not stale yet
        later = timezone.now() + timedelta(seconds=settings.FLOWBUILDER_REQUEUE_AFTER_SECONDS + 1)
        assert inline_engine.drive(lambda: recovery.sweep(now=later)).starts_requeued == 1
        execution.refresh_from_db()
        assert execution.status == "completed"

    def test_lost_step_message_is_requeued(self, inline_engine, make_workflow, settings):
        settings.FLOWBUILDER_EAGER_MAX_STEPS = 1  # the start does not go on with the step: it is queued
        workflow = make_workflow(linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1)))
        dropping = DroppingDispatcher()
        install(dropping)
        inline_engine.drive(lambda: execution_start(workflow=workflow, input_data={}))
        execution = Execution.objects.get()
        inline_engine.drive(lambda: runner.start_execution(execution.pk))  # the start ran; the step message is lost
        assert execution.steps.get(node_id="f").status == "pending"
        install(inline_engine.dispatcher)
        later = timezone.now() + timedelta(seconds=settings.FLOWBUILDER_REQUEUE_AFTER_SECONDS + 1)
        assert inline_engine.drive(lambda: recovery.sweep(now=later)).steps_requeued == 1
        execution.refresh_from_db()
        assert execution.status == "completed"

    def test_step_whose_worker_died_runs_again(self, inline_engine, make_workflow):
        workflow = make_workflow(linear(node("start", "trigger.manual"), node("f", "test.flaky", value=1)))
        execution = inline_engine.run(workflow)
        step = execution.steps.get(node_id="f")
        # As if attempt 1 had been claimed by a worker that then died.
        StepRun.objects.filter(pk=step.pk).update(
            status="running", lease_expires_at=timezone.now() - timedelta(seconds=1)
        )
        Execution.objects.filter(pk=execution.pk).update(status="running", completed_at=None)
        report = inline_engine.drive(recovery.sweep)
        assert report.lost_steps_rerun == 1
        step.refresh_from_db()
        assert (step.status, step.attempt) == ("completed", 2)
        assert ExecutionLog.objects.filter(execution=execution, message__contains="was lost").exists()


SPIN = (
    "{% macro f(n) %}{% if n %}{{ f(n - 1) }}{{ f(n - 1) }}{% endif %}{% endmacro %}{{ f(60) }}"  # no output, no loop
)


class TestInlineNodesHaveTimeLimits:
    """An expression that spins fails its step in bounded time, inside the run's transaction."""

    def test_the_nodes_timeout_seconds(self, run_node):
        execution, step = run_node("transform", {"value": SPIN}, timeout_seconds=0.3)
        assert (execution.status, step.status) == ("failed", "failed")
        assert "ran longer than the node's timeout_seconds (0.3 s) and was stopped" in step.error["message"]
        assert step.attempt == 1  # not retried: it would spin again

    def test_the_runs_timeout_when_it_is_tighter(self, inline_engine, make_workflow):
        definition = linear(node("start", "trigger.manual"), node("spin", "transform", value=SPIN))
        definition["nodes"][1]["timeout_seconds"] = 30
        definition["settings"] = {"timeout_seconds": 0.4}
        execution = inline_engine.run(make_workflow(definition))
        step = execution.steps.get(node_id="spin")
        assert execution.status == "failed"
        assert "ran longer than the run's timeout" in step.error["message"]

    def test_an_inline_node_without_a_timeout_has_the_default(self, run_node, monkeypatch):
        monkeypatch.setattr("executions.engine.expression_limits.MAX_RENDER_SECONDS", 0.3)
        execution, step = run_node("transform", {"value": SPIN})
        assert execution.status == "failed"
        assert "ran longer than the time limit of an inline node (0.3 s)" in step.error["message"]


def test_a_wait_whose_resumption_killed_its_worker_twice_fails(inline_engine, make_workflow):
    """Each resumption is counted before it runs; a count left by two dead workers means: do not try again."""
    definition = linear(
        node("start", "trigger.manual"), node("wait", "delay", seconds=3600), node("after", "transform", value=1)
    )
    execution = inline_engine.run(make_workflow(definition))
    StepRun.objects.filter(execution=execution, node_id="wait").update(
        wake_at=timezone.now() - timedelta(seconds=1), worker_deaths=2
    )
    assert inline_engine.drive(recovery.sweep).woken == 1
    execution.refresh_from_db()
    wait = execution.steps.get(node_id="wait")
    assert (execution.status, wait.status) == ("failed", "failed")
    assert wait.error["message"] == "The worker resuming this step died 2 times; it is not retried again"


def test_a_resumption_that_finishes_is_not_counted_as_a_death(inline_engine, make_workflow):
    definition = linear(node("start", "trigger.manual"), node("wait", "delay", seconds=3600))
    execution = inline_engine.run(make_workflow(definition))
    step = execution.steps.get(node_id="wait")
    StepRun.objects.filter(pk=step.pk).update(wake_at=timezone.now() - timedelta(seconds=1))
    assert inline_engine.drive(lambda: runner.wake_due_step(step.pk))
    step.refresh_from_db()
    assert (step.status, step.worker_deaths) == ("completed", 0)
