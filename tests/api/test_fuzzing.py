"""Schemathesis against a live server: every operation of /openapi.json, as a user and as a scoped API key.

The server is uvicorn on the test database, with the loopback OpenAI-compatible server as its AI
provider; this process's Celery worker runs what the fuzzer starts. A finding is any 5xx, an
answer that does not match its documented schema, status or content type, or an error that is
not SPEC §2's envelope (tests/api/fuzz_hooks.py). The number of examples is bounded so the two
runs take a couple of minutes; ``FLOWBUILDER_FUZZ_EXAMPLES`` asks for more.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.services import api_key_create
from executions.services import execution_start
from files.services import file_upload
from integrations.services import credential_create
from tests.executions.live.helpers import running_server, server_env, token_for
from tests.factories import UserFactory
from tests.integrations.servers import OPENAI_KEY
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "error_envelope",
    ]
)


@pytest.fixture(scope="module")
def fuzz_server(django_db_setup, openai_server, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("fuzz") / "server.log"
    env = server_env(
        RATE_LIMIT_ENABLED="false",  # thousands of requests a minute, on purpose
        FLOWBUILDER_SYNC_WAIT_SECONDS="2",
        FLOWBUILDER_AI_BASE_URL=openai_server.url("/v1"),
        FLOWBUILDER_AI_API_KEY=OPENAI_KEY,
    )
    with running_server(env, log_path) as base:
        yield base, log_path


@pytest.fixture
def owned_objects():
    """A user with one of each thing the API has ids for; the ids, by path prefix, for the hooks."""
    user = UserFactory()
    workflow = workflow_create(
        owner=user,
        name="fuzzed",
        definition=linear(
            node("start", "trigger.manual"),
            node("approve", "approval", message="ok?"),
        ),
    )
    execution, _ = execution_start(workflow=workflow, input_data={"a": 1})
    credential = credential_create(owner=user, name="c", type="http_bearer", data={"token": "t-1234567890"})
    stored = file_upload(owner=user, upload=SimpleUploadedFile("hello.txt", b"hello", "text/plain"))
    ids = {
        "/api/v1/workflows/executions/": {"id": str(execution.pk)},
        "/api/v1/workflows/": {"id": str(workflow.pk), "workflow_id": str(workflow.pk), "number": 1},
        "/api/v1/test/execute/": {"workflow_id": str(workflow.pk)},
        "/api/v1/executions/": {"id": str(execution.pk), "node_id": "approve"},
        "/api/v1/credentials/": {"id": str(credential.pk)},
        "/api/v1/files/": {"id": str(stored.pk)},
        "/api/v1/users/": {"user_id": str(user.pk)},
    }
    return user, ids


def fuzz(
    base: str, header: str, ids: dict, tmp_path: Path, phases: str = "examples,coverage,fuzzing"
) -> subprocess.CompletedProcess[str]:
    st = shutil.which("st", path=str(Path(os.sys.executable).parent))
    assert st, "schemathesis is in requirements-dev.txt"
    examples = os.environ.get("FLOWBUILDER_FUZZ_EXAMPLES", "3")
    command = [
        st, "run", f"{base}/openapi.json",
        "--header", header,
        "--checks", CHECKS,
        "--phases", os.environ.get("FLOWBUILDER_FUZZ_PHASES", phases),
        "--max-examples", examples,
        "--workers", "1",  # two threads crash CPython 3.11's ast.parse inside Hypothesis (a race, not a finding)
        "--request-timeout", "30",
        "--seed", "20261204",
        "--no-color",
        "--suppress-health-check", "all",
        "--warnings", "off",
    ]  # fmt: skip
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.api.fuzz_hooks",
        "FLOWBUILDER_FUZZ_IDS": json.dumps(ids),
        "PYTHONPATH": str(Path(__file__).resolve().parents[2]),
    }
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=900, check=False, cwd=tmp_path)


def test_every_operation_as_a_signed_in_user(fuzz_server, owned_objects, celery_worker, tmp_path):
    base, log_path = fuzz_server
    user, ids = owned_objects
    done = fuzz(base, f"Authorization: Bearer {token_for(user)}", ids, tmp_path)
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
    assert "Traceback" not in log_path.read_text()


def test_every_operation_with_a_read_only_api_key(fuzz_server, owned_objects, celery_worker, tmp_path):
    base, log_path = fuzz_server
    user, ids = owned_objects
    _, raw = api_key_create(user=user, granted=frozenset({"workflow:read", "execution:read"}), name="read only")
    # What this run is for is access: every operation, with values that pass validation, must answer
    # 2xx or 403, never 5xx. The coverage phase's boundary values (140 s) are the signed-in run's job.
    done = fuzz(base, f"X-API-Key: {raw}", ids, tmp_path, phases="examples,fuzzing")
    assert done.returncode == 0, done.stdout[-20000:] + done.stderr[-3000:]
    assert "Traceback" not in log_path.read_text()
