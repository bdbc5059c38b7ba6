"""Running workflows on files: status transitions, the run's input, results, signals, a real worker."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from executions.models import Execution
from files import selectors, signals
from files.models import StoredFile
from files.selectors import FileNotAvailable
from tests.engine_fixtures import wait_for
from tests.factories import WorkflowFactory
from tests.files.samples import CSV_BYTES, PDF_BYTES, png_bytes
from tests.workflows.helpers import linear, node

UPLOAD = "/api/v1/files/upload"


def file_workflow(owner, *, categories=None, fail=False):
    file_input = {"required": True, **({"categories": categories} if categories else {})}
    steps = [node("start", "trigger.manual", file=file_input)]
    if fail:
        steps.append(node("boom", "test.flaky", fail_times=5, retryable=False))
    steps.append(
        node(
            "out",
            "output",
            value={
                "name": "{{ input.file.name }}",
                "size": "{{ input.file.size }}",
                "note": "{{ input.note | default('') }}",
            },
        )
    )
    definition = linear(*steps)
    return WorkflowFactory(owner=owner, definition=definition)


def upload(client, data=CSV_BYTES, name="sales.csv", **fields):
    body = {"file": SimpleUploadedFile(name, data, content_type="text/csv"), **fields}
    response = client.post(UPLOAD, body, format="multipart")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.mark.django_db
def test_process_runs_the_workflow_with_the_file_reference(auth_client, user, inline_engine):
    workflow = file_workflow(user)
    file_id = upload(auth_client)["id"]
    processed = []
    handler = lambda sender, file, **kwargs: processed.append((file.pk, file.status))  # noqa: E731
    signals.file_processed.connect(handler)
    try:
        response = inline_engine.drive(
            lambda: auth_client.post(
                f"/api/v1/files/{file_id}/process",
                {"workflow_id": str(workflow.pk), "input_data": {"note": "q3"}},
                format="json",
            )
        )
    finally:
        signals.file_processed.disconnect(handler)
    assert response.status_code == 202, response.content
    assert response.json()["status"] == "processing"
    execution = Execution.objects.get(pk=response.json()["execution_id"])
    assert execution.trigger == Execution.Trigger.FILE
    assert execution.input_data["file"] == {
        "id": file_id,
        "name": "sales.csv",
        "content_type": "text/csv",
        "category": "data",
        "size": len(CSV_BYTES),
        "download_url": f"http://testserver/api/v1/files/{file_id}/download",
    }
    body = auth_client.get(f"/api/v1/files/{file_id}").json()
    assert body["status"] == "processed"
    assert body["workflow_id"] == str(workflow.pk)
    assert body["processing_result"] == {
        "execution_id": str(execution.pk),
        "status": "completed",
        "output": {"name": "sales.csv", "size": len(CSV_BYTES), "note": "q3"},
        "error": None,
    }
    assert processed == [(StoredFile.objects.get().pk, "processed")]
    # The linked workflow runs again without naming it.
    again = inline_engine.drive(lambda: auth_client.post(f"/api/v1/files/{file_id}/process", {}, format="json"))
    assert again.status_code == 202
    assert again.json()["execution_id"] != str(execution.pk)


@pytest.mark.django_db
def test_a_failing_run_marks_the_file_failed(auth_client, user, inline_engine):
    workflow = file_workflow(user, fail=True)
    file_id = upload(auth_client)["id"]
    inline_engine.drive(
        lambda: auth_client.post(f"/api/v1/files/{file_id}/process", {"workflow_id": str(workflow.pk)}, format="json")
    )
    body = auth_client.get(f"/api/v1/files/{file_id}").json()
    assert body["status"] == "failed"
    assert body["processing_result"]["status"] == "failed"
    assert "flaky failure" in body["processing_result"]["error"]["message"]


@pytest.mark.django_db
def test_processing_twice_at_once_is_409(auth_client, user):
    workflow = file_workflow(user)
    file_id = upload(auth_client, workflow_id=str(workflow.pk), process_immediately=True)["id"]
    # No engine here: the run stays queued, the file processing.
    response = auth_client.post(f"/api/v1/files/{file_id}/process", {}, format="json")
    assert response.status_code == 409


@pytest.mark.django_db
def test_a_workflow_taking_other_categories_is_400(auth_client, user):
    workflow = file_workflow(user, categories=["image"])
    file_id = upload(auth_client)["id"]
    response = auth_client.post(f"/api/v1/files/{file_id}/process", {"workflow_id": str(workflow.pk)}, format="json")
    assert response.status_code == 400
    detail = response.json()["error"]["details"][0]
    assert detail["field"] == "workflow_id"
    assert "takes image files, not data" in detail["message"]


@pytest.mark.django_db
def test_a_file_workflow_run_without_a_file_fails_clearly(user, inline_engine):
    execution = inline_engine.run(file_workflow(user), {"note": "no file"})
    assert execution.status == "failed"
    assert "this workflow takes a file" in execution.error["message"]


@pytest.mark.django_db
def test_file_bytes_for_only_reads_the_runs_owners_files(auth_client, user, make_user):
    file_id = upload(auth_client, PDF_BYTES, name="a.pdf")["id"]
    own_run = Execution(owner=user)
    stored, data = selectors.file_bytes_for(own_run, file_id)
    assert (stored.name, data) == ("a.pdf", PDF_BYTES)
    with pytest.raises(FileNotAvailable):
        selectors.file_bytes_for(Execution(owner=make_user()), file_id)
    with pytest.raises(FileNotAvailable):
        selectors.file_bytes_for(own_run, "not-an-id")
    with pytest.raises(Exception, match="a step reads at most 10"):
        selectors.file_bytes_for(own_run, file_id, max_bytes=10)


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_upload_and_process_immediately_on_a_real_worker(celery_worker, make_user):
    from tests.clients import client_for

    owner = make_user()
    client = client_for(owner)
    workflow = file_workflow(owner, categories=["image"])
    body = upload(client, png_bytes(), name="cat.png", workflow_id=str(workflow.pk), process_immediately="true")
    assert body["status"] == "processing"
    assert body["category"] == "image"
    stored = wait_for(lambda: StoredFile.objects.filter(pk=body["id"]).exclude(status="processing").first())
    assert stored.status == "processed", stored.processing_result
    assert stored.processing_result["output"] == {"name": "cat.png", "size": len(png_bytes()), "note": ""}
    assert stored.execution.status == "completed"


@pytest.mark.django_db
def test_a_file_whose_run_ended_without_telling_it_is_finished_by_the_sweep(auth_client, user, inline_engine):
    """The run's end did not reach the file (its listener failed, or the run ended before the listener
    was there): the file said ``processing`` for ever and ``process`` answered 409. The reconciliation
    finishes it."""
    from datetime import timedelta

    from django.utils import timezone

    from executions.signals import execution_finished
    from files import receivers, tasks

    workflow = file_workflow(user)
    file_id = upload(auth_client)["id"]
    execution_finished.disconnect(receivers._run_finished, dispatch_uid="files.execution_finished")  # the lost callback
    try:
        response = inline_engine.drive(
            lambda: auth_client.post(
                f"/api/v1/files/{file_id}/process", {"workflow_id": str(workflow.pk)}, format="json"
            )
        )
    finally:
        execution_finished.connect(receivers._run_finished, dispatch_uid="files.execution_finished")
    execution = Execution.objects.get(pk=response.json()["execution_id"])
    assert execution.status == "completed"
    assert auth_client.get(f"/api/v1/files/{file_id}").json()["status"] == "processing"
    assert auth_client.post(f"/api/v1/files/{file_id}/process", {}, format="json").status_code == 409

    assert tasks.reconcile_processing() == 0  # within the grace period: the callback may still come
    Execution.objects.filter(pk=execution.pk).update(completed_at=timezone.now() - timedelta(minutes=1))
    assert tasks.reconcile_processing() == 1
    body = auth_client.get(f"/api/v1/files/{file_id}").json()
    assert (body["status"], body["processing_result"]["status"]) == ("processed", "completed")
    assert tasks.reconcile_processing() == 0


@pytest.mark.django_db
def test_a_files_status_changes_in_the_transaction_that_ends_its_run(auth_client, user):
    """No after-commit callback runs here (as if the worker died right after the commit): the file is
    finished all the same, with the run's result, and its event is stored for delivery."""
    from executions.engine import runner
    from webhooks import services as webhook_services
    from webhooks.models import WebhookDelivery

    webhook_services.webhook_create(owner=user, url="https://93.184.216.34/hook", events=["file.processing.completed"])
    workflow = file_workflow(user)
    file_id = upload(auth_client)["id"]
    response = auth_client.post(f"/api/v1/files/{file_id}/process", {"workflow_id": str(workflow.pk)}, format="json")
    assert response.status_code == 202, response.content
    runner.start_execution(response.json()["execution_id"])  # the start the lost callback would have queued
    stored = StoredFile.objects.get(pk=file_id)
    assert (stored.status, stored.processing_result["status"]) == ("processed", "completed")
    assert stored.processing_result["output"] == {"name": "sales.csv", "size": len(CSV_BYTES), "note": ""}
    assert list(WebhookDelivery.objects.values_list("event", "status")) == [("file.processing.completed", "pending")]
