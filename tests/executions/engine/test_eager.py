"""Eager continuation: the worker that finishes a step runs its run's next dispatched step itself.

Without a trip through the broker, in the transaction that records the step before it, for a bounded
slice; parallel branches beyond the first still go to the queue. Counted here: the tasks sent and the
statements each step costs. (A worker killed in an eager chain: test_engine_celery.)
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from executions.engine import dispatch, runner
from executions.models import StepRun
from executions.services import execution_start
from tests.engine_fixtures import DroppingDispatcher, InlineDispatcher
from tests.workflows.helpers import edge, linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


class Holding(InlineDispatcher):
    """Keeps the steps it is sent, for the test to run by hand."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[int] = []

    def run_step(self, step_id: int, *, countdown: float | None = None) -> None:
        self.sent.append(step_id)


@pytest.fixture
def engine(inline_engine, monkeypatch):
    """The in-thread engine, remembering which steps it was sent to run now (not on a countdown)."""
    inline_engine.sent = []
    send = inline_engine.dispatcher.run_step

    def run_step(step_id: int, *, countdown: float | None = None) -> None:
        if not countdown:
            inline_engine.sent.append(step_id)
        send(step_id, countdown=countdown)

    monkeypatch.setattr(inline_engine.dispatcher, "run_step", run_step)
    return inline_engine


def chain(user, steps: int, name: str = "chain"):
    nodes = [node(f"s{i}", "test.flaky", value=i) for i in range(steps)]
    definition = linear(node("start", "trigger.manual"), *nodes, node("out", "output", value="{{ steps.s0.output }}"))
    return workflow_create(owner=user, name=name, definition=definition)


def node_of(step_id: int) -> str:
    return StepRun.objects.get(pk=step_id).node_id


def test_a_chain_of_dispatched_steps_is_sent_to_the_queue_once(engine, user):
    execution = engine.run(chain(user, 6))
    assert execution.status == "completed"
    assert execution.output_data == {"attempt": 1, "value": 0}
    assert engine.sent == []  # the start's task went on with s0, then s1..s5
    steps = {s.node_id: s for s in execution.steps.all()}
    assert all(steps[f"s{i}"].status == "completed" and steps[f"s{i}"].attempt == 1 for i in range(6))
    assert [steps[f"s{i}"].started_at <= steps[f"s{i + 1}"].started_at for i in range(5)] == [True] * 5


def test_the_slice_sends_the_rest_to_the_queue(engine, user, settings):
    settings.FLOWBUILDER_EAGER_MAX_STEPS = 2  # each task runs two steps (a start counts as one)
    execution = engine.run(chain(user, 6))
    assert execution.status == "completed"
    assert [node_of(step_id) for step_id in engine.sent] == ["s1", "s3", "s5"]


def test_no_eager_steps_when_the_slice_is_zero(engine, user, settings):
    settings.FLOWBUILDER_EAGER_SLICE_SECONDS = 0
    execution = engine.run(chain(user, 3))
    assert execution.status == "completed"
    assert [node_of(step_id) for step_id in engine.sent] == ["s0", "s1", "s2"]


def test_parallel_branches_beyond_the_first_go_to_the_queue(engine, user):
    definition = {
        "nodes": [
            node("start", "trigger.manual"),
            node("a", "test.flaky", value="a"),
            node("left", "test.flaky", value="left"),
            node("right", "test.flaky", value="right"),
            node("join", "output", value="{{ [steps.left.output.value, steps.right.output.value] }}"),
        ],
        "edges": [
            edge("start", "a"),
            edge("a", "left"),
            edge("a", "right"),
            edge("left", "join"),
            edge("right", "join"),
        ],
    }
    execution = engine.run(workflow_create(owner=user, name="fan", definition=definition))
    assert execution.status == "completed"
    assert execution.output_data == ["left", "right"]
    # The start went on with a, then with one branch; the other was sent to be run by another worker.
    assert [node_of(step_id) for step_id in engine.sent] in (["left"], ["right"])


def test_a_retry_waits_for_its_backoff_on_the_queue(engine, user):
    definition = linear(
        node("start", "trigger.manual"),
        node("a", "test.flaky", value="a"),
        {**node("b", "test.flaky", fail_times=1, value="b"), "retry": {"max_attempts": 2, "backoff_seconds": 5}},
    )
    execution = engine.run(workflow_create(owner=user, name="retry", definition=definition))
    assert execution.status == "running"
    b = execution.steps.get(node_id="b")
    assert (b.status, b.attempt) == ("retrying", 1)
    assert [(kind, node_of(step_id), countdown) for kind, step_id, countdown in engine.dispatcher.deferred] == [
        ("run_step", "b", 5.0)
    ]
    engine.run_deferred()
    execution.refresh_from_db()
    assert execution.status == "completed"
    assert execution.steps.get(node_id="b").attempt == 2


def test_a_cancelled_run_stops_its_eager_chain(engine, user, settings):
    from executions.engine.runner import cancel_execution

    settings.FLOWBUILDER_EAGER_MAX_STEPS = 1  # the start leaves s0 to the queue
    holding = Holding()
    dispatch.install(holding)
    execution = engine.run(chain(user, 3))
    (first,) = holding.sent
    cancel_execution(execution.pk, reason="stop")
    engine.drive(lambda: runner.execute_step(first))
    execution.refresh_from_db()
    assert execution.status == "cancelled"
    assert set(execution.steps.filter(node_id__in=["s0", "s1", "s2"]).values_list("attempt", flat=True)) == {0}


def _statements_to_run(user, steps: int, django_capture_on_commit_callbacks) -> int:
    """Statements a worker sends for a run of ``steps`` dispatched steps, from its start to its end."""
    dropping = DroppingDispatcher()
    dispatch.install(dropping)
    with django_capture_on_commit_callbacks(execute=True):
        execution, _ = execution_start(workflow=chain(user, steps, name=f"chain{steps}"), input_data={})
    with CaptureQueriesContext(connection) as queries, django_capture_on_commit_callbacks(execute=True):
        runner.start_execution(execution.pk)
    execution.refresh_from_db()
    assert execution.status == "completed"
    assert dropping.deferred == []  # nothing was sent to the queue
    return len([q for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))])


def test_an_eager_step_costs_three_statements(inline_engine, user, django_capture_on_commit_callbacks):
    short = _statements_to_run(user, 4, django_capture_on_commit_callbacks)
    long = _statements_to_run(user, 12, django_capture_on_commit_callbacks)
    # Each step more: lock the run (its steps are the ones this worker wrote), then one pipelined
    # write of the step's result and the next step's claim (one statement), and the run's state.
    assert (long - short) / 8 <= 3, (short, long)
