"""Waiting for a run (a ``sync`` execute, a ``when_done`` webhook) listens for its events, it does not poll."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from executions import selectors
from executions.services import execution_start
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def asks(queries: CaptureQueriesContext) -> int:
    """The status reads among the captured queries."""
    return sum(
        1 for query in queries.captured_queries if query["sql"].startswith('SELECT "executions_execution"."status"')
    )


def test_a_wait_asks_the_database_when_the_run_says_something_not_every_few_milliseconds(celery_worker, user, tmp_path):
    gate = tmp_path / "gate"
    workflow = workflow_create(
        owner=user,
        name="held",
        definition=linear(
            node("start", "trigger.manual"), node("hold", "test.slow", gate=str(gate), seconds=0), node("end", "output")
        ),
    )
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data={})
    opener = threading.Timer(3.0, gate.touch)
    opener.start()
    try:
        with CaptureQueriesContext(connection) as queries:
            done = selectors.execution_wait(execution.pk, 30)
    finally:
        opener.cancel()
    assert done.status == "completed"
    # 3 s of waiting: polling every 20-200 ms asked ~20 times; listening asks once per published batch
    # and once a second at most otherwise.
    assert 1 <= asks(queries) <= 9, [query["sql"][:80] for query in queries.captured_queries]


def test_a_wait_that_times_out_answers_the_run_as_it_is(celery_worker, user, tmp_path):
    gate = tmp_path / "gate"
    workflow = workflow_create(
        owner=user,
        name="held",
        definition=linear(node("start", "trigger.manual"), node("hold", "test.slow", gate=str(gate), seconds=0)),
    )
    with transaction.atomic():
        execution, _ = execution_start(workflow=workflow, input_data={})
    try:
        assert selectors.execution_wait(execution.pk, 1.5).status in ("queued", "running")
    finally:
        gate.touch()
