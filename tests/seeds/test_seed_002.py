"""Seed 002's client code, run as its readers would: against a live server, only the URL and key changed.

The server is uvicorn on the test database (a subprocess); the in-process Celery worker runs the steps;
the "AI provider" is the loopback OpenAI-compatible server, configured as the server's default
(``FLOWBUILDER_AI_BASE_URL``), since the seed's ``ai_model`` node names no credential.
"""

from __future__ import annotations

import ast
import asyncio
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
import websockets

from accounts.services import api_key_create
from tests.executions.live.helpers import running_server, server_env
from tests.factories import UserFactory
from tests.integrations.servers import OPENAI_KEY

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

EXAMPLES = Path(__file__).parent / "examples"
SEED_URL = "https://api.flowsyai.com"


@pytest.fixture(scope="module")
def seed_server(django_db_setup, openai_server, tmp_path_factory):
    log_path = tmp_path_factory.mktemp("seed") / "server.log"
    env = server_env(FLOWBUILDER_AI_BASE_URL=openai_server.url("/v1"), FLOWBUILDER_AI_API_KEY=OPENAI_KEY)
    with running_server(env, log_path) as base:
        yield base, log_path


@pytest.fixture
def ai_default(settings, openai_server):
    """The worker (this process) uses the same default provider as the server."""
    settings.FLOWBUILDER_AI_BASE_URL = openai_server.url("/v1")
    settings.FLOWBUILDER_AI_API_KEY = OPENAI_KEY


@pytest.fixture
def api_key(db):
    user = UserFactory()
    _, raw = api_key_create(user=user, granted=user.api_permissions, name="seed 002")
    return raw


def test_the_python_client_runs_verbatim(seed_server, ai_default, celery_worker, api_key, tmp_path):
    base, log_path = seed_server
    code = (EXAMPLES / "seed_002_client.py").read_text()
    code = code.replace(f'"{SEED_URL}"', f'"{base}"').replace(
        'FlowsyAIClient("your_api_key")', f'FlowsyAIClient("{api_key}")'
    )
    script = tmp_path / "client.py"
    script.write_text(code)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[-2] == "Status: completed", done.stdout  # the loop ended on the word it waits for
    assert lines[-1].startswith("Final result: ")
    result = ast.literal_eval(lines[-1].removeprefix("Final result: "))
    # {input_1} became the topic of the run's input.
    assert result["text"] == "echo: Write a comprehensive blog post about: The Future of Artificial Intelligence"
    assert api_key not in log_path.read_text()


def test_the_websocket_client_runs_verbatim(seed_server, ai_default, celery_worker, api_key, tmp_path):
    base, log_path = seed_server
    node = shutil.which("node")
    assert node, "Node.js runs the seed's JavaScript"
    headers = {"Authorization": f"Bearer {api_key}"}  # the seed's header, with the API key
    definition = {
        "nodes": [
            {"id": "input_1", "type": "input", "data": {"label": "Topic", "type": "text"}},
            {"id": "ai_1", "type": "ai_model", "data": {"label": "Writer", "prompt": "About: {input_1}"}},
        ],
        "connections": [{"source": "input_1", "target": "ai_1"}],
    }
    created = httpx.post(f"{base}/api/v1/workflows", json={"name": "ws", "workflow_data": definition}, headers=headers)
    assert created.status_code == 201, created.text
    workflow_id = created.json()["id"]
    code = (
        (EXAMPLES / "seed_002_websocket.js").read_text().replace("wss://api.flowsyai.com", base.replace("http", "ws"))
    )
    harness = tmp_path / "ws.js"
    harness.write_text(
        code
        + """
function updateProgressBar(progress) { console.log('progress ' + progress); }
function displayResults(result) { console.log('RESULT ' + JSON.stringify(result)); }
function showError(error) { console.log('ERROR ' + JSON.stringify(error)); }
connectToWorkflowUpdates(process.argv[2], process.argv[3]);
"""
    )
    client = subprocess.Popen(
        [node, "--experimental-websocket", str(harness), workflow_id, api_key],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output: list[str] = []
    reader = threading.Thread(target=lambda: output.extend(client.stdout or []), daemon=True)
    reader.start()
    deadline = time.monotonic() + 20
    while not any("Connected to workflow updates" in line for line in output) and time.monotonic() < deadline:
        time.sleep(0.05)
    run = httpx.post(
        f"{base}/api/v1/workflows/{workflow_id}/execute",
        json={"input_data": {"topic": "sockets"}, "async": True},
        headers=headers,
    )
    assert run.status_code == 202, run.text
    deadline = time.monotonic() + 30
    while not any(line.startswith("RESULT") for line in output) and time.monotonic() < deadline:
        time.sleep(0.05)
    client.terminate()
    client.wait(10)
    text = "".join(output)
    assert "Execution completed:" in text, text
    result = next(line for line in output if line.startswith("RESULT"))
    assert '"text":"echo: About: sockets"' in result
    assert api_key not in log_path.read_text()  # it was in the socket's ?token=
    assert "token=[redacted]" in log_path.read_text()


def test_unknown_socket_paths_are_refused_at_the_handshake(seed_server):
    base, log_path = seed_server

    async def status(path: str) -> int:
        try:
            async with websockets.connect(base.replace("http", "ws") + path):
                return 101
        except websockets.InvalidStatus as exc:
            return exc.response.status_code

    paths = ["/ws/client-123", "/api/v1/ws/nowhere/", "/anything"]
    assert [asyncio.run(status(p)) for p in paths] == [403, 403, 403]
    assert "Traceback" not in log_path.read_text()


def test_an_ai_node_without_a_credential_needs_a_server_default(settings, auth_client):
    settings.FLOWBUILDER_AI_BASE_URL = ""
    definition = {
        "nodes": [
            {"id": "input_1", "type": "input", "data": {"label": "Topic"}},
            {"id": "ai_1", "type": "ai_model", "data": {"prompt": "About: {input_1}"}},
        ],
        "connections": [{"source": "input_1", "target": "ai_1"}],
    }
    refused = auth_client.post("/api/v1/workflows", {"name": "x", "workflow_data": definition}, format="json")
    assert refused.status_code == 400
    [detail] = refused.json()["error"]["details"]
    assert detail["field"] == "definition.nodes[1].config.credential"
    assert "FLOWBUILDER_AI_BASE_URL" in detail["message"]
    settings.FLOWBUILDER_AI_BASE_URL = "http://127.0.0.1:9/v1"
    created = auth_client.post("/api/v1/workflows", {"name": "x", "workflow_data": definition}, format="json")
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["definition"]["nodes"][1]["config"]["prompt"] == "About: {{ input.topic | default(input) }}"
    assert any("'{input_1}' became" in w["message"] for w in body["warnings"])


def test_async_false_is_the_sync_mode(auth_client, user, celery_worker):
    from tests.factories import WorkflowFactory

    workflow = WorkflowFactory(owner=user)
    response = auth_client.post(
        f"/api/v1/workflows/{workflow.pk}/execute", {"input_data": {"n": 2}, "async": False}, format="json"
    )
    assert response.status_code == 200, response.content
    assert (response.json()["status"], response.json()["output_data"]) == ("completed", {"result": 4})
    contradicting = auth_client.post(
        f"/api/v1/workflows/{workflow.pk}/execute", {"async": False, "mode": "async"}, format="json"
    )
    assert contradicting.status_code == 400


def test_the_file_upload_example(seed_server, celery_worker, api_key, tmp_path):
    """Verbatim it asks to process the file without saying which workflow: the answer says what to add.
    With that one line (the workflow's id), it uploads, processes and prints the result."""
    from accounts.models import ApiKey
    from tests.workflows.helpers import linear, node
    from workflows.services import workflow_create

    base, log_path = seed_server
    owner = ApiKey.objects.get().user
    workflow = workflow_create(
        owner=owner,
        name="files",
        definition=linear(
            node("start", "trigger.manual", file={"required": True}),
            node("out", "output", value={"name": "{{ input.file.name }}", "size": "{{ input.file.size }}"}),
        ),
    )
    code = (EXAMPLES / "seed_002_file_upload.js").read_text().replace(SEED_URL, base)
    harness = """
const { File } = require('node:buffer');
(async () => {
    const result = await uploadAndProcessFile(new File(['hello, seed'], 'notes.txt', { type: 'text/plain' }), process.argv[2]);
    console.log('DONE ' + JSON.stringify(result));
})();
"""

    def run(source: str) -> str:
        script = tmp_path / "upload.js"
        script.write_text(source + harness)
        done = subprocess.run(["node", str(script), api_key], capture_output=True, text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        return done.stdout

    verbatim = run(code)
    assert "VALIDATION_ERROR" in verbatim, verbatim
    assert "send the id of the workflow" in verbatim
    one_line = code.replace(
        "formData.append('description', 'Document for analysis');",
        f"formData.append('description', 'Document for analysis');\n    formData.append('workflow_id', '{workflow.pk}');",
    )
    output = run(one_line)
    assert "Processing status: processed" in output, output
    assert "Processing completed:" in output
    assert "notes.txt" in output
    assert api_key not in log_path.read_text()
