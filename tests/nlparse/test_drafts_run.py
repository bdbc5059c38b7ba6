"""Every draft runs: each corpus and dev-set sentence's draft validates and its dry run completes.

A dry run simulates side effects (e-mails, Slack, LLM calls, writes) with the shape a real one
answers, skips delays and approves approvals; GETs are made. Here they go to a local server that
answers what the draft reads of them (the fields its expressions name, a list where a loop goes
over the answer), and the placeholders the draft declares are filled in as its warnings ask
(a credential, a workflow, an address). What is left to fail is the draft itself: an expression
of the wrong type for its field, a reference to a step that is not there.
"""

from __future__ import annotations

import base64
import json
import re
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from nlparse.parser import parse_text
from tests.nlparse.corpus import CORPUS
from tests.nlparse.devset import DEFAULT_PATH
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db

DEV = [case["text"] for case in json.loads(DEFAULT_PATH.read_text()) if not case.get("expect_error_or_warning")]
SENTENCES = [case.text for case in CORPUS] + DEV
# A field the draft reads: steps.<node>.output.body.<path> or input.body.<path>.
READ = re.compile(r"(steps\.(\w+)\.output\.body|input\.body)((?:\.\w+)*)")


class _Answers(BaseHTTPRequestHandler):
    def _answer(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        body = json.dumps(self.server.answers.get(self.path.lstrip("/"), {})).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture(scope="module")
def answers() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Answers)
    server.answers = {}  # type: ignore[attr-defined]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


def _shape(definition: dict[str, Any]) -> dict[str, Any]:
    """What each source must hold for the draft's expressions: {node id or "input": value}."""
    text = json.dumps(definition)
    looped = {n["config"].get("items") for n in definition["nodes"] if n["type"] == "for_each"}
    shapes: dict[str, Any] = {}
    for match in READ.finditer(text):
        source = match.group(2) or "input"
        path = [p for p in match.group(3).split(".") if p]
        is_items = any(item and match.group(0) in item and item.strip("{} ") == match.group(0) for item in looped)
        leaf: Any = [{"id": 1}, {"id": 2}] if is_items else 5
        if not path:
            shapes.setdefault(source, leaf if is_items else {})
            continue
        current = shapes.setdefault(source, {})
        if not isinstance(current, dict):
            continue
        for key in path[:-1]:
            current = current.setdefault(key, {})
        current.setdefault(path[-1], leaf)
    return shapes


# A one-pixel PNG: a file for drafts whose trigger takes an image.
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


def _file_input(client, trigger: dict[str, Any]) -> dict[str, Any]:
    """A file uploaded through the API, as the input of a trigger that takes one."""
    image = "image" in ((trigger["config"].get("file") or {}).get("categories") or [])
    upload = (
        SimpleUploadedFile("in.png", PNG, "image/png")
        if image
        else SimpleUploadedFile("in.txt", b"hello", "text/plain")
    )
    response = client.post("/api/v1/files/upload", {"file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    keys = ("id", "name", "content_type", "category", "size", "download_url")
    return {"file": {key: value for key, value in response.json().items() if key in keys}}


def _filled(definition: dict[str, Any], user, make_credential, server) -> tuple[dict[str, Any], Any]:
    """The draft with its placeholders filled and its requests sent to ``server``; and the run's input."""
    shapes = _shape(definition)
    for draft_node in definition["nodes"]:
        if draft_node["type"] == "http_request":
            draft_node["config"]["url"] = f"http://127.0.0.1:{server.server_port}/{draft_node['id']}"
            server.answers[draft_node["id"]] = shapes.get(draft_node["id"], {"ok": True})
    for name in definition.get("variables", {}):
        if name.endswith("slack_credential"):
            value = str(make_credential("slack_webhook", {"url": "https://hooks.slack.com/services/T/B/X"}).pk)
        elif name.endswith("llm_credential"):
            value = str(
                make_credential("openai_compatible", {"base_url": "https://llm.example.com/v1", "api_key": "k"}).pk
            )
        elif name.endswith("workflow_id"):
            child = workflow_create(
                owner=user,
                name="per item",
                definition=linear(node("start", "trigger.manual"), node("out", "output", value="{{ input }}")),
            )
            value = str(child.pk)
        else:
            value = "someone@example.com"
        definition["variables"][name] = value
    trigger = definition["nodes"][0]["type"]
    body = shapes.get("input", {})
    input_data = {"body": body, "headers": {}, "query": {}} if trigger == "trigger.webhook" else {}
    return definition, input_data


@pytest.mark.parametrize("text", SENTENCES, ids=[text[:60] for text in SENTENCES])
def test_every_draft_dry_runs_to_completed(text, user, auth_client, inline_engine, answers, make_credential, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]
    definition, input_data = _filled(parse_text(text).definition, user, make_credential, answers)
    trigger = definition["nodes"][0]
    if trigger["config"].get("file"):
        input_data = _file_input(auth_client, trigger)
    workflow = workflow_create(owner=user, name=text[:100], definition=definition)
    execution = inline_engine.run(workflow, input_data, mode="dry_run")
    inline_engine.run_deferred()
    execution.refresh_from_db()
    failed = {s.node_id: s.error for s in execution.steps.all() if s.status == "failed"}
    assert execution.status == "completed", (execution.error, failed)
