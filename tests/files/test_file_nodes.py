"""Nodes reading uploaded files: ``script`` ``files``, ``http_request`` ``body_file`` and multipart, ``llm`` ``images``.

Files are uploaded through the API; the runs go through the engine against real
peers (the bubblewrap sandbox, the loopback target and OpenAI-compatible servers).
"""

from __future__ import annotations

import base64
import json
from email import policy
from email.parser import BytesParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.engine import files as engine_files
from executions.engine import sandbox
from executions.models import Execution
from files.models import StoredFile
from tests.clients import client_for
from tests.engine_fixtures import wait_finished
from tests.files.samples import CSV_BYTES, PDF_BYTES, png_bytes
from tests.workflows.helpers import linear, node
from workflows.services import workflow_create

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("servers")]

UPLOAD = "/api/v1/files/upload"
COUNT_CSV = (
    "doc = files['doc']\n"
    "text = doc['bytes'].decode()\n"
    "rows = text.splitlines()\n"
    "print('read', doc['name'])\n"
    "output = {'name': doc['name'], 'content_type': doc['content_type'], 'size': doc['size'],\n"
    "          'bytes': len(doc['bytes']), 'lines': len(rows), 'header': rows[0].split(','),\n"
    "          'total': sum(int(r.split(',')[2]) for r in rows[1:]), 'is_bytes': isinstance(doc['bytes'], bytes)}\n"
)


@pytest.fixture(autouse=True)
def _fresh_sandboxes():
    sandbox.reset()
    yield
    sandbox.reset()


def upload(client, data: bytes = CSV_BYTES, name: str = "sales.csv", content_type: str = "text/csv") -> dict:
    response = client.post(
        UPLOAD, {"file": SimpleUploadedFile(name, data, content_type=content_type)}, format="multipart"
    )
    assert response.status_code == 201, response.content
    return response.json()


def multipart_parts(content_type: str, body: bytes) -> list[dict]:
    """The parts of a multipart/form-data body, parsed by the standard library's MIME parser."""
    message = BytesParser(policy=policy.default).parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode() + body)
    assert message.is_multipart()
    return [
        {
            "field": part.get_param("name", header="content-disposition"),
            "filename": part.get_filename(),
            "content_type": part.get_content_type() if part.get_filename() else None,
            "bytes": part.get_payload(decode=True),
        }
        for part in message.iter_parts()
    ]


# --- script ----------------------------------------------------------------------------------------------------


def test_a_script_reads_an_uploaded_csv_of_a_file_run(auth_client, user, inline_engine):
    """Upload through the API, process it with a workflow whose script counts the CSV's lines."""
    definition = linear(
        node("start", "trigger.manual", file={"categories": ["data"]}),
        node("count", "script", code=COUNT_CSV, files={"doc": "{{ input.file.id }}"}),
        node("out", "output", value="{{ steps.count.output }}"),
    )
    workflow = workflow_create(owner=user, name="count rows", definition=definition)
    file_id = upload(auth_client)["id"]
    response = inline_engine.drive(
        lambda: auth_client.post(f"/api/v1/files/{file_id}/process", {"workflow_id": str(workflow.pk)}, format="json")
    )
    assert response.status_code == 202, response.content
    execution = Execution.objects.get(pk=response.json()["execution_id"])
    assert execution.status == "completed", execution.error
    assert execution.output_data == {
        "name": "sales.csv",
        "content_type": "text/csv",
        "size": len(CSV_BYTES),
        "bytes": len(CSV_BYTES),
        "lines": 4,
        "header": ["id", "name", "amount"],
        "total": 15,
        "is_bytes": True,
    }
    assert execution.logs.filter(node_id="count", message="read sales.csv").exists()
    assert StoredFile.objects.get(pk=file_id).status == "processed"


def test_a_script_takes_several_files_and_whole_references(auth_client, run_node):
    csv_file, png_file = upload(auth_client), upload(auth_client, png_bytes(), "dot.png", "image/png")
    code = "output = {k: [f['id'], f['name'], f['content_type'], f['size'], f['bytes'][:4].hex()] for k, f in files.items()}"
    execution, step = run_node(
        "script",
        {"code": code, "files": {"table": "{{ input.table.id }}", "picture": "{{ input.picture }}"}},
        input_data={"table": csv_file, "picture": png_file},
    )
    assert execution.status == "completed", step.error
    assert step.output == {
        "table": [csv_file["id"], "sales.csv", "text/csv", len(CSV_BYTES), CSV_BYTES[:4].hex()],
        "picture": [png_file["id"], "dot.png", "image/png", len(png_bytes()), png_bytes()[:4].hex()],
    }


def test_a_script_without_files_sees_an_empty_dict(run_node):
    execution, step = run_node("script", {"code": "output = files"})
    assert execution.status == "completed", step.error
    assert step.output == {}


# --- http_request ----------------------------------------------------------------------------------------------


def test_http_request_posts_a_file_as_the_body(auth_client, run_node, target_server):
    picture = upload(auth_client, png_bytes(3, 3), "dot.png", "image/png")
    execution, step = run_node(
        "http_request",
        {"method": "POST", "url": target_server.url("/echo"), "body_file": "{{ input.file.id }}"},
        input_data={"file": picture},
    )
    assert execution.status == "completed", step.error
    assert target_server.raw_bodies == [png_bytes(3, 3)]
    assert target_server.hits[0]["headers"]["content-type"] == "image/png"
    assert target_server.hits[0]["headers"]["content-length"] == str(len(png_bytes(3, 3)))


def test_http_request_body_file_keeps_a_content_type_the_headers_set(auth_client, run_node, target_server):
    document = upload(auth_client, PDF_BYTES, "a.pdf", "application/pdf")
    execution, step = run_node(
        "http_request",
        {
            "method": "PUT",
            "url": target_server.url("/echo"),
            "body_file": document["id"],
            "headers": {"content-type": "application/octet-stream"},
        },
    )
    assert execution.status == "completed", step.error
    assert target_server.raw_bodies == [PDF_BYTES]
    assert target_server.hits[0]["headers"]["content-type"] == "application/octet-stream"


def test_http_request_multipart_upload(auth_client, run_node, target_server):
    csv_file = upload(auth_client)
    png_file = upload(auth_client, png_bytes(), "dot.png", "image/png")
    pdf_file = upload(auth_client, PDF_BYTES, "a.pdf", "application/pdf")
    execution, step = run_node(
        "http_request",
        {
            "method": "POST",
            "url": target_server.url("/echo"),
            "body_type": "multipart",
            "body": {"title": "Q3 {{ input.kind }}", "count": 2},
            "files": {"table": "{{ input.csv.id }}", "attachments": [png_file["id"], "{{ input.pdf }}"]},
        },
        input_data={"kind": "sales", "csv": csv_file, "pdf": pdf_file},
    )
    assert execution.status == "completed", step.error
    content_type = target_server.hits[0]["headers"]["content-type"]
    assert content_type.startswith("multipart/form-data; boundary=")
    parts = multipart_parts(content_type, target_server.raw_bodies[0])
    # The fields come in the order the stored definition keeps its keys (jsonb's); a list keeps its order.
    assert sorted(parts, key=lambda part: part["field"]) == [
        {"field": "attachments", "filename": "dot.png", "content_type": "image/png", "bytes": png_bytes()},
        {"field": "attachments", "filename": "a.pdf", "content_type": "application/pdf", "bytes": PDF_BYTES},
        {"field": "count", "filename": None, "content_type": None, "bytes": b"2"},
        {"field": "table", "filename": "sales.csv", "content_type": "text/csv", "bytes": CSV_BYTES},
        {"field": "title", "filename": None, "content_type": None, "bytes": b"Q3 sales"},
    ]


def test_a_multipart_body_of_fields_alone_stays_multipart(run_node, target_server):
    execution, step = run_node(
        "http_request",
        {"method": "POST", "url": target_server.url("/echo"), "body_type": "multipart", "body": {"a": "1"}},
    )
    assert execution.status == "completed", step.error
    content_type = target_server.hits[0]["headers"]["content-type"]
    assert multipart_parts(content_type, target_server.raw_bodies[0]) == [
        {"field": "a", "filename": None, "content_type": None, "bytes": b"1"}
    ]


def test_a_307_redirect_sends_the_multipart_body_again(auth_client, run_node, target_server):
    csv_file = upload(auth_client)
    url = target_server.url("/redirect") + "?code=307&to=/echo"
    execution, step = run_node(
        "http_request",
        {"method": "POST", "url": url, "body_type": "multipart", "files": {"doc": csv_file["id"]}},
    )
    assert execution.status == "completed", step.error
    assert [hit["path"] for hit in target_server.hits] == ["/redirect", "/echo"]
    assert target_server.raw_bodies[0] == target_server.raw_bodies[1]
    parts = multipart_parts(target_server.hits[1]["headers"]["content-type"], target_server.raw_bodies[1])
    assert parts[0]["bytes"] == CSV_BYTES


def test_dry_runs_describe_the_files_they_would_send(auth_client, run_node, target_server):
    csv_file = upload(auth_client)
    execution, step = run_node(
        "http_request",
        {"method": "POST", "url": target_server.url("/echo"), "body_file": csv_file["id"]},
        mode=Execution.Mode.DRY_RUN,
    )
    assert execution.status == "completed", step.error
    described = {"id": csv_file["id"], "name": "sales.csv", "content_type": "text/csv", "size": len(CSV_BYTES)}
    assert step.output == {
        **{"status": 200, "headers": {}, "body": {}, "url": target_server.url("/echo")},  # an empty 200's keys
        "simulated": True,
        "would_send": {
            "method": "POST",
            "url": target_server.url("/echo"),
            "headers": {"Content-Type": "text/csv"},
            "body": None,
            "body_file": described,
        },
    }
    execution, step = run_node(
        "http_request",
        {
            "method": "POST",
            "url": target_server.url("/echo"),
            "body_type": "multipart",
            "body": {"a": "1"},
            "files": {"one": csv_file["id"], "many": [csv_file["id"]]},
        },
        mode=Execution.Mode.DRY_RUN,
    )
    assert execution.status == "completed", step.error
    assert step.output["would_send"]["body"] == {"a": "1"}
    assert step.output["would_send"]["files"] == {"one": described, "many": [described]}
    # A GET is sent for real in a dry run, its file too.
    execution, step = run_node(
        "http_request",
        {"url": target_server.url("/echo"), "body_file": csv_file["id"]},
        mode=Execution.Mode.DRY_RUN,
    )
    assert execution.status == "completed", step.error
    assert target_server.raw_bodies == [CSV_BYTES]


# --- llm -------------------------------------------------------------------------------------------------------


def test_an_ai_vision_node_sends_an_uploaded_png_as_a_data_url(auth_client, run_node, openai_server, openai_credential):
    picture = upload(auth_client, png_bytes(4, 4), "cat.png", "image/png")
    execution, step = run_node(
        "ai_vision",
        {
            "credential": str(openai_credential.pk),
            "prompt": "What is in this image?",
            "images": ["{{ input.file.id }}"],
        },
        input_data={"file": picture},
    )
    assert execution.status == "completed", step.error
    assert step.output["text"] == "echo: 2 parts: text, image_url"
    sent = json.loads(openai_server.hits[-1]["body"])
    data_url = "data:image/png;base64," + base64.b64encode(png_bytes(4, 4)).decode()
    assert sent["messages"] == [
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": data_url}},
            ],
        }
    ]
    assert data_url not in json.dumps(step.output)


def test_llm_images_go_on_the_last_user_message(auth_client, run_node, openai_server, openai_credential):
    first = upload(auth_client, png_bytes(1, 1), "a.png", "image/png")
    second = upload(auth_client, png_bytes(2, 1), "b.png", "image/png")
    messages = [
        {"role": "user", "content": "Remember this."},
        {"role": "assistant", "content": "OK."},
        {"role": "user", "content": "Compare them."},
        {"role": "assistant", "content": "Let me look."},
    ]
    execution, step = run_node(
        "llm",
        {"credential": str(openai_credential.pk), "messages": messages, "images": [first["id"], "{{ input.second }}"]},
        input_data={"second": second},
    )
    assert execution.status == "completed", step.error
    sent = json.loads(openai_server.hits[-1]["body"])["messages"]
    assert sent[:2] == messages[:2]
    assert sent[3] == messages[3]
    assert [part["type"] for part in sent[2]["content"]] == ["text", "image_url", "image_url"]
    assert sent[2]["content"][2]["image_url"]["url"].endswith(base64.b64encode(png_bytes(2, 1)).decode())


def test_llm_refuses_a_file_that_is_not_an_image(auth_client, run_node, openai_server, openai_credential):
    csv_file = upload(auth_client)
    execution, step = run_node(
        "llm", {"credential": str(openai_credential.pk), "prompt": "Describe", "images": [csv_file["id"]]}
    )
    assert execution.status == "failed"
    assert step.error["message"] == "config.images[0]: File 'sales.csv' is text/csv, not an image"
    assert step.attempt == 1
    assert openai_server.hits == []


def test_an_llm_dry_run_names_the_images_it_would_send(auth_client, run_node, openai_server, openai_credential):
    picture = upload(auth_client, png_bytes(), "cat.png", "image/png")
    execution, step = run_node(
        "llm",
        {"credential": str(openai_credential.pk), "prompt": "Describe", "images": [picture["id"]]},
        mode=Execution.Mode.DRY_RUN,
    )
    assert execution.status == "completed", step.error
    assert step.output["would_send"]["images"] == [
        {"id": picture["id"], "name": "cat.png", "content_type": "image/png", "size": len(png_bytes())}
    ]
    assert step.output["would_send"]["messages"] == [{"role": "user", "content": "Describe"}]
    assert openai_server.hits == []


# --- what a step may not read ----------------------------------------------------------------------------------


def node_reading(node_type: str, file_id: str, *, credential: str, url: str) -> dict:
    """A config of ``node_type`` that reads ``file_id``."""
    if node_type == "script":
        return {"code": "output = len(files['doc']['bytes'])", "files": {"doc": file_id}}
    if node_type == "http_request":
        return {"method": "POST", "url": url, "body_file": file_id}
    return {"credential": credential, "prompt": "Describe", "images": [file_id]}


FIELDS = {"script": "config.files.doc", "http_request": "config.body_file", "llm": "config.images[0]"}


@pytest.mark.parametrize("node_type", FIELDS)
@pytest.mark.parametrize("mode", ["live", "dry_run"])
def test_another_users_file_is_not_found_like_a_missing_one(
    run_node, make_user, node_type, mode, target_server, openai_server, openai_credential
):
    theirs = upload(client_for(make_user()), png_bytes(), "theirs.png", "image/png")["id"]
    missing = "0b9e7c1a-3f2d-4e5b-9c8a-7d6e5f4a3b21"
    messages = []
    for file_id in (theirs, missing):
        config = node_reading(node_type, file_id, credential=str(openai_credential.pk), url=target_server.url("/echo"))
        execution, step = run_node(node_type, config, mode=mode)
        assert execution.status == "failed"
        assert step.attempt == 1  # not retried: it would fail again
        messages.append(step.error["message"].replace(file_id, "<id>"))
    assert messages == [f"{FIELDS[node_type]}: File '<id>' not found"] * 2
    assert "theirs.png" not in json.dumps(messages)
    assert target_server.hits == openai_server.hits == []


@pytest.mark.parametrize("node_type", FIELDS)
def test_a_file_over_the_limit_fails_clearly(
    auth_client, run_node, settings, node_type, target_server, openai_credential
):
    settings.FLOWBUILDER_NODE_FILE_MAX_BYTES = 50
    picture = upload(auth_client, png_bytes(8, 8), "big.png", "image/png")
    config = node_reading(
        node_type, picture["id"], credential=str(openai_credential.pk), url=target_server.url("/echo")
    )
    execution, step = run_node(node_type, config)
    assert execution.status == "failed"
    assert step.attempt == 1
    assert step.error["message"] == (
        f"{FIELDS[node_type]}: File 'big.png' is {picture['size']:,} bytes; a step reads at most 50 bytes of files"
    )
    assert target_server.hits == []


def test_the_limit_holds_for_a_steps_files_together(auth_client, run_node, settings):
    settings.FLOWBUILDER_NODE_FILE_MAX_BYTES = len(CSV_BYTES) + 10
    first, second = upload(auth_client), upload(auth_client, name="more.csv")
    execution, step = run_node("script", {"code": "output = 1", "files": {"a": first["id"], "b": second["id"]}})
    assert execution.status == "failed"
    assert step.error["message"] == (
        f"config.files.b: the step's files come to {2 * len(CSV_BYTES):,} bytes; "
        f"a step reads at most {len(CSV_BYTES) + 10:,} bytes of files"
    )


def test_a_file_whose_bytes_are_gone_is_not_found(auth_client, run_node, user, file_storage_dir):
    csv_file = upload(auth_client)
    (file_storage_dir / str(user.pk) / csv_file["id"]).unlink()
    execution, step = run_node("script", {"code": "output = 1", "files": {"doc": csv_file["id"]}})
    assert execution.status == "failed"
    assert step.error["message"] == f"config.files.doc: File '{csv_file['id']}' not found"


def test_a_reference_that_renders_to_nothing_fails_clearly(run_node):
    execution, step = run_node("script", {"code": "output = 1", "files": {"doc": "{{ input.nothing }}"}})
    assert execution.status == "failed"
    assert "config.files.doc" in step.error["message"]


def test_without_a_file_store_steps_reading_files_fail_clearly(auth_client, run_node):
    csv_file = upload(auth_client)
    installed = engine_files.store()
    engine_files.install(None)
    try:
        _execution, step = run_node("script", {"code": "output = 1", "files": {"doc": csv_file["id"]}})
    finally:
        engine_files.install(installed)
    assert step.error["message"] == "Files are not available: no file store is installed"


# --- saving ----------------------------------------------------------------------------------------------------


def test_validation_points_at_bad_file_fields(auth_client):
    definition = linear(
        node("start", "trigger.manual"),
        node("post", "http_request", url="https://example.com", body={"a": 1}, body_file="{{ input.file.id }}"),
        node("parts", "http_request", url="https://example.com", files={"doc": "{{ input.file.id }}"}),
        node(
            "form",
            "http_request",
            url="https://example.com",
            body_type="multipart",
            body="text",
            headers={"Content-Type": "multipart/form-data"},
        ),
        node("calc", "script", code="output = 1", files={"doc": "sales.csv"}),
        node("look", "llm", credential="{{ vars.ai }}", prompt="hi", images="cat.png"),
    )
    response = auth_client.post("/api/v1/workflows/validate", {"definition": definition}, format="json")
    assert response.status_code == 200, response.content
    fields = {problem["field"] for problem in response.json()["errors"]}
    assert {
        "definition.nodes[1].config.body_file",
        "definition.nodes[2].config.files",
        "definition.nodes[3].config.body",
        "definition.nodes[3].config.headers.Content-Type",
        "definition.nodes[4].config.files.doc",
        "definition.nodes[5].config.images",
    } <= fields


# --- on a real worker ------------------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_file_run_on_a_real_worker_posts_the_file(celery_worker, make_user, target_server):
    owner = make_user()
    client = client_for(owner)
    definition = linear(
        node("start", "trigger.manual", file={"categories": ["image"]}),
        node("send", "http_request", method="POST", url=target_server.url("/echo"), body_file="{{ input.file.id }}"),
        node("size", "script", code="output = files['f']['size']", files={"f": "{{ input.file }}"}),
    )
    workflow = workflow_create(owner=owner, name="send it", definition=definition)
    picture = upload(client, png_bytes(5, 5), "five.png", "image/png")
    response = client.post(f"/api/v1/files/{picture['id']}/process", {"workflow_id": str(workflow.pk)}, format="json")
    assert response.status_code == 202, response.content
    execution = wait_finished(response.json()["execution_id"], timeout=60)
    assert execution.status == "completed", execution.error
    assert execution.output_data["size"] == len(png_bytes(5, 5))
    assert target_server.raw_bodies == [png_bytes(5, 5)]


def test_a_file_near_the_limit_reaches_a_script_whatever_its_memory_limit(auth_client, run_node):
    """The files are in the sandbox before its limits apply: they do not count against memory_mb."""
    data = bytes(range(256)) * (9 * 4096)  # 9 MiB, every byte value
    big = upload(auth_client, data, "blob.bin", "application/octet-stream")
    code = "import hashlib\nb = files['blob']['bytes']\noutput = [len(b), hashlib.sha256(b).hexdigest()]"
    execution, step = run_node("script", {"code": code, "files": {"blob": big["id"]}, "memory_mb": 16})
    assert execution.status == "completed", step.error
    assert step.output == [len(data), big["sha256"]]
