"""The sync client against a live server: what a user's script sees."""

from __future__ import annotations

import time
import uuid
from pathlib import Path

import pytest
from conftest import PASSWORD, Stub, new_account, simple_definition, slow_definition

from flowbuilder_client import (
    APIConnectionError,
    AuthenticationError,
    Flowbuilder,
    NotFoundError,
    RateLimitError,
    ValidationError,
    WaitTimeoutError,
    models,
)


def test_create_execute_wait_and_read_the_result(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="doubler", definition=simple_definition(), tags=["sdk"])
    assert isinstance(wf, models.WorkflowCreated)
    assert (wf.name, wf.version, wf.tags) == ("doubler", 1, ["sdk"])

    run = fb.workflows.execute(wf.id, input_data={"n": 21})
    done = fb.executions.wait(run.id, timeout=60)

    assert done.id == run.id
    assert done.status == "completed"
    assert done.output_data == {"result": 42}
    assert [(s.node_id, s.status) for s in done.steps] == [
        ("start", "completed"),
        ("double", "completed"),
        ("out", "completed"),
    ]
    assert done.steps[1].output == 42
    assert fb.workflows.get(wf.id).execution_count == 1


def test_a_sync_execute_answers_the_finished_run(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="doubler", definition=simple_definition())
    done = fb.workflows.execute(wf.id, input_data={"n": 5}, mode="sync")
    assert isinstance(done, models.ExecutionDetail)
    assert (done.status, done.output_data) == ("completed", {"result": 10})


def test_seed_002_snippet_runs_with_only_the_import_changed(account: tuple[str, str]) -> None:
    from flowbuilder_client import Flowbuilder as FlowsyAI  # the one changed line

    # Seed 002, "Python SDK", verbatim but for the key (an API key made for this test).
    key = Flowbuilder(token=account[1]).api_keys.create("seed").key
    client = FlowsyAI(api_key=key)

    # Create workflow
    workflow = client.workflows.create({"name": "My Workflow", "workflow_data": simple_definition()})

    # Execute workflow
    execution = client.workflows.execute(workflow.id, {"input_data": {"topic": "AI", "n": 1}})

    assert client.executions.wait(execution.id).output_data == {"result": 2}


def test_stream_yields_a_snapshot_then_the_updates_and_ends_with_the_run(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="slow", definition=slow_definition(seconds=1))
    run = fb.workflows.execute(wf.id, input_data={})

    events = list(fb.executions.stream(run.id))

    assert events[0]["type"] == "snapshot"
    assert events[-1]["type"] == "execution_completed"
    assert events[-1]["data"]["output_data"] == {"done": True}
    steps = {(e.get("data") or {}).get("node_id") for e in events if e["type"] == "step_update"}
    assert "pause" in steps or events[0]["status"] != "running"  # joined mid-run, or the delay was seen
    # A finished run: its snapshot, then the socket closes.
    again = list(fb.executions.stream(run.id))
    assert [e["type"] for e in again] == ["snapshot"]
    assert again[0]["status"] == "completed"


def test_wait_gives_up_with_the_run_as_last_seen(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="slow", definition=slow_definition(seconds=30))
    run = fb.workflows.execute(wf.id, input_data={})
    with pytest.raises(WaitTimeoutError) as caught:
        fb.executions.wait(run.id, timeout=0.5)
    assert isinstance(caught.value, TimeoutError)
    assert caught.value.execution.status in ("queued", "running", "waiting")
    cancelled = fb.executions.cancel(run.id)
    assert cancelled.status == "cancelled"


def test_a_missing_object_is_a_not_found_error_with_the_envelope(fb: Flowbuilder) -> None:
    with pytest.raises(NotFoundError) as caught:
        fb.workflows.get(str(uuid.uuid4()))
    error = caught.value
    assert (error.status_code, error.code) == (404, "NOT_FOUND")
    assert error.request_id
    assert "404" in str(error)


def test_another_users_workflow_is_not_found(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="mine", definition=simple_definition())
    with Flowbuilder(token=new_account()[1]) as other, pytest.raises(NotFoundError):
        other.workflows.get(wf.id)


def test_a_bad_definition_is_a_validation_error_pointing_at_the_field(fb: Flowbuilder) -> None:
    definition = simple_definition()
    definition["nodes"][1]["type"] = "no.such.type"
    with pytest.raises(ValidationError) as caught:
        fb.workflows.create(name="broken", definition=definition)
    error = caught.value
    assert (error.status_code, error.code) == (400, "VALIDATION_ERROR")
    assert any(d["field"].startswith("definition.nodes[1]") for d in error.details), error.details


def test_bad_credentials_are_an_authentication_error() -> None:
    with Flowbuilder(api_key="fbk_not_a_real_key") as client, pytest.raises(AuthenticationError) as caught:
        client.auth.me()
    assert caught.value.status_code == 401


def test_the_servers_rate_limit_is_a_rate_limit_error_with_retry_after(fb: Flowbuilder) -> None:
    impatient = Flowbuilder(token=fb.token, max_retries=0)

    def hammer() -> None:
        for _ in range(1000):  # the default limit is 100 a minute per user
            impatient.auth.me()

    with pytest.raises(RateLimitError) as caught:
        hammer()
    assert caught.value.code == "RATE_LIMIT_EXCEEDED"
    assert (caught.value.retry_after or 0) > 0


def test_a_429_is_retried_after_the_time_the_server_asks(stub: Stub) -> None:
    stub.answers = [
        (429, {"Retry-After": "1"}, {"error": {"code": "RATE_LIMIT_EXCEEDED"}}),
        (200, {}, {"status": "ok"}),
    ]
    started = time.monotonic()
    with Flowbuilder(base_url=stub.url, api_key="fbk_x") as client:
        response = client.request("GET", "/api/v1/monitoring/health")
    assert response.json() == {"status": "ok"}
    assert time.monotonic() - started >= 1
    assert len(stub.requests) == 2


def test_a_retried_execute_carries_one_idempotency_key(stub: Stub) -> None:
    accepted = {"id": "x", "execution_id": "x", "status": "queued"}
    stub.answers = [(503, {"Retry-After": "0"}, {"error": {"code": "SERVICE_UNAVAILABLE"}}), (202, {}, accepted)]
    with Flowbuilder(base_url=stub.url, api_key="fbk_x") as client:
        client.request("POST", "/api/v1/workflows/w/execute", json={}, headers={"Idempotency-Key": "k-1"})
    keys = [r["headers"].get("Idempotency-Key") for r in stub.requests]
    assert keys == ["k-1", "k-1"]


def test_a_repeated_idempotency_key_answers_the_same_run(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="doubler", definition=simple_definition())
    first = fb.workflows.execute(wf.id, input_data={"n": 1}, idempotency_key="once")
    second = fb.workflows.execute(wf.id, input_data={"n": 1}, idempotency_key="once")
    assert first.id == second.id
    assert len(list(fb.workflows.executions(wf.id))) == 1


def test_an_unreachable_server_is_a_connection_error_after_the_retries() -> None:
    client = Flowbuilder(base_url="http://127.0.0.1:9", api_key="fbk_x", max_retries=1)
    with pytest.raises(APIConnectionError):
        client.auth.me()


def test_list_iterates_every_page(fb: Flowbuilder) -> None:
    tag = uuid.uuid4().hex[:8]
    made = {fb.workflows.create(name=f"{tag}-{n}", definition=simple_definition()).id for n in range(5)}
    with Flowbuilder(token=fb.token, page_size=2) as paged:  # three pages of five
        listed = list(paged.workflows.list(search=tag))
    assert {w.id for w in listed} == made
    assert all(isinstance(w, models.WorkflowList) for w in listed)


def test_upload_a_file_and_download_it(fb: Flowbuilder, tmp_path: Path) -> None:
    path = tmp_path / "report.csv"
    path.write_bytes(b"name,total\nada,42\n")
    uploaded = fb.files.upload(path, description="numbers")
    assert (uploaded.name, uploaded.size, uploaded.description) == ("report.csv", 18, "numbers")
    assert fb.files.download(uploaded.id) == path.read_bytes()
    assert [f.id for f in fb.files.list()] == [uploaded.id]


def test_templates_are_instantiated_with_parameter_values(fb: Flowbuilder) -> None:
    template = fb.templates.create(name="tpl", definition=simple_definition(), description="x")
    made = fb.templates.instantiate(template.id, name="from template")
    assert made.name == "from template"
    assert made.template_id == template.id
    assert fb.workflows.get(made.id).definition.nodes[1].id == "double"


def test_credentials_never_come_back_with_their_data(fb: Flowbuilder) -> None:
    created = fb.credentials.create("svc", "api_key", {"name": "X-Key", "value": "s3cret-value", "in": "header"})
    assert "s3cret-value" not in created.model_dump_json()
    assert [c.id for c in fb.credentials.list()] == [created.id]


def test_export_import_and_versions(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="v", definition=simple_definition())
    updated = fb.workflows.update(wf.id, description="second", version=1)
    assert updated.description == "second"
    exported = fb.workflows.export(wf.id)
    copy = fb.workflows.import_(exported, name="copy")  # the answer as it came
    again = fb.workflows.import_(exported.model_dump(mode="json", exclude_unset=True), name="again")
    assert again.definition == copy.definition
    assert copy.name == "copy"
    assert [v.number for v in fb.workflows.versions(wf.id)]


def test_retry_and_rerun_start_new_runs(fb: Flowbuilder) -> None:
    wf = fb.workflows.create(name="doubler", definition=simple_definition())
    run = fb.workflows.execute(wf.id, input_data={"n": 2}, mode="sync")
    rerun = fb.executions.rerun(run.id)
    assert rerun.id != run.id
    assert fb.executions.wait(rerun.id).output_data == {"result": 4}


def test_environment_variables_configure_the_client(account: tuple[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWBUILDER_TOKEN", account[1])
    with Flowbuilder() as client:
        assert client.auth.me().email == account[0]


def test_login_sets_the_token() -> None:
    email, _ = new_account()
    with Flowbuilder() as client:
        client.auth.login(email, PASSWORD)
        assert client.auth.me().email == email


def test_parse_drafts_a_workflow_that_validates(fb: Flowbuilder) -> None:
    draft = fb.test.parse("Every day at 9am fetch https://example.com/api and email the result to ops@example.com")
    assert draft.parser == "builtin"
    assert fb.workflows.validate(draft.definition).valid
