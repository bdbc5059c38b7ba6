"""What starting a run costs the database: counted, so it cannot creep back."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from executions.services import execution_start
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db


def test_starting_a_run_takes_a_handful_of_statements(user, django_capture_on_commit_callbacks):
    workflow = workflow_create(
        owner=user,
        name="three",
        definition=linear(node("start", "trigger.manual"), node("a", "test.flaky", value=1), node("b", "output")),
    )
    execution_start(workflow=workflow, input_data={})  # warms the version cache, as every later start finds it
    with CaptureQueriesContext(connection) as queries, transaction.atomic():
        execution_start(workflow=workflow, input_data={"n": 1})
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # The run, its steps (one multi-row insert), the owner's outgoing-webhook subscriptions, the audit row.
    assert len(statements) <= 4, statements


def test_an_execute_request_takes_a_handful_of_statements(user, auth_client):
    workflow = workflow_create(
        owner=user,
        name="three",
        definition=linear(node("start", "trigger.manual"), node("a", "test.flaky", value=1), node("b", "output")),
    )
    client = auth_client
    client.post(f"/api/v1/workflows/{workflow.pk}/execute", {"input_data": {}}, format="json")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(f"/api/v1/workflows/{workflow.pk}/execute", {"input_data": {"n": 1}}, format="json")
    assert response.status_code == 202
    statements = [q["sql"] for q in queries.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    # The user, their permissions (one query), the workflow, then the four of execution_start.
    assert len(statements) <= 7, statements
