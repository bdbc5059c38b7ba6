"""Outages of a dependency, against a live server: answers stay truthful, nothing accepted is lost or doubled."""

from __future__ import annotations

import socket

import httpx
import pytest

from executions.engine import recovery
from executions.models import Execution
from tests.engine_fixtures import wait_finished
from tests.executions.live.helpers import running_server, server_env, token_for
from tests.factories import UserFactory
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def server_without_broker(django_db_setup, tmp_path):
    """The web process with its Celery broker unreachable (the cache and channel layer are fine)."""
    log_path = tmp_path / "server.log"
    env = server_env(CELERY_BROKER_URL=f"redis://127.0.0.1:{closed_port()}/0")
    with running_server(env, log_path, ready_path="/openapi.json") as base:  # health is 503 without a broker
        yield base, log_path


def test_an_execute_while_the_broker_is_down_is_accepted_once_and_runs_when_it_is_back(
    server_without_broker, celery_worker
):
    base, log_path = server_without_broker
    user = UserFactory()
    workflow = workflow_create(
        owner=user, name="w", definition=linear(node("start", "trigger.manual"), node("f", "test.flaky", value=7))
    )
    response = httpx.post(
        f"{base}/api/v1/workflows/{workflow.pk}/execute",
        json={"input_data": {}},
        headers={"Authorization": f"Bearer {token_for(user)}"},
        timeout=30,
    )
    # The run was committed before the publish failed: it is the answer, not an error to retry.
    assert response.status_code == 202, response.text
    execution = Execution.objects.get()
    assert str(execution.pk) == response.json()["execution_id"]
    assert "the recovery sweep will send it" in log_path.read_text()
    # The broker back (this process's worker and broker): the very next sweep sends what the outbox
    # holds, not one FLOWBUILDER_REQUEUE_AFTER_SECONDS (60 s) later.
    assert recovery.sweep().starts_requeued == 1
    done = wait_finished(execution.pk)
    assert (done.status, done.output_data) == ("completed", {"f": {"attempt": 1, "value": 7}})
    assert Execution.objects.count() == 1
