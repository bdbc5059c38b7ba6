"""``manage.py export_workflows`` / ``import_workflows``, and every operator command's --help."""

from __future__ import annotations

import io
import json
from io import StringIO

import pytest
from django.core.management import call_command, get_commands, load_command_class
from django.core.management.base import CommandError

from audit.models import AuditEvent
from tests.factories import UserFactory, WorkflowFactory
from tests.workflows.helpers import simple_definition
from workflows.models import Tag, Workflow

pytestmark = pytest.mark.django_db


def command(*args: str, stdin: str | None = None, monkeypatch=None) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def alice_workflows():
    alice = UserFactory(email="alice@example.com")
    first = WorkflowFactory(owner=alice, name="Daily report", category="reports", description="d")
    first.tags.add(Tag.objects.create(name="ops"))
    WorkflowFactory(owner=alice, name="Sync / CRM")
    WorkflowFactory(name="Someone else's")
    return alice


def test_export_to_stdout_and_import_it_back(alice_workflows, monkeypatch):
    out, err = command("export_workflows", "--user", "ALICE@example.com")
    exports = json.loads(out)
    assert [e["name"] for e in exports] == ["Daily report", "Sync / CRM"]
    assert exports[0]["format"] == "flowbuilder.workflow"
    assert exports[0]["tags"] == ["ops"]
    assert "Exported 2 workflow(s)." in err

    bob = UserFactory(email="bob@example.com")
    out, err = command("import_workflows", "-", "--user", bob.email, stdin=out, monkeypatch=monkeypatch)
    assert out.count("imported") == 2
    assert "Imported 2 workflow(s), 0 failed." in err
    copy = Workflow.objects.get(owner=bob, name="Daily report")
    assert (copy.category, copy.description, [t.name for t in copy.tags.all()]) == ("reports", "d", ["ops"])
    assert copy.definition == Workflow.objects.get(owner=alice_workflows, name="Daily report").definition
    created = AuditEvent.objects.filter(action="workflow.created", object_id=str(copy.pk)).get()
    assert (created.source, created.actor) == ("cli", None)


def test_export_to_a_directory_and_import_the_files(alice_workflows, tmp_path):
    _, err = command("export_workflows", "--out", str(tmp_path / "exports"))
    files = sorted((tmp_path / "exports").iterdir())
    assert len(files) == 3
    assert "Exported 3 workflow(s)." in err
    assert any(f.name.startswith("sync-crm-") for f in files)
    bob = UserFactory()
    command("import_workflows", *map(str, files), "--user", bob.email, "--inactive")
    assert Workflow.objects.filter(owner=bob, is_active=False).count() == 3


def test_import_reports_each_failure_and_exits_non_zero(tmp_path):
    bob = UserFactory()
    good = {"name": "Good", "definition": simple_definition()}
    bad = {"name": "Bad", "definition": {"nodes": [{"id": "x", "type": "nope"}], "edges": []}}
    path = tmp_path / "mixed.json"
    path.write_text(json.dumps([good, bad, {"what": "ever"}]))
    out, err = StringIO(), StringIO()
    with pytest.raises(CommandError, match="2 workflow\\(s\\) could not be imported"):
        call_command("import_workflows", str(path), "--user", bob.email, stdout=out, stderr=err)
    assert f"{path}[0]: imported 'Good'" in out.getvalue()
    assert f"{path}[1]: not imported: The imported workflow is invalid" in err.getvalue()
    assert "nodes[0].type" in err.getvalue()
    assert f"{path}[2]: not imported: Unrecognised workflow format" in err.getvalue()
    assert list(Workflow.objects.filter(owner=bob).values_list("name", flat=True)) == ["Good"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["export_workflows", "--user", "nobody@example.com"], "No user"),
        (["import_workflows", "/nonexistent.json", "--user", "{email}"], "No such file"),
        (["import_workflows", "{bad}", "--user", "{email}"], "not valid JSON"),
        (["import_workflows", "x.json", "--user", "nobody@example.com"], "No user"),
    ],
)
def test_command_errors(args, message, tmp_path):
    user = UserFactory()
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    args = [a.format(email=user.email, bad=bad) for a in args]
    with pytest.raises(CommandError, match=message):
        command(*args)


def test_export_out_must_be_a_directory(tmp_path):
    target = tmp_path / "file"
    target.write_text("")
    with pytest.raises(CommandError, match="is not a directory"):
        command("export_workflows", "--out", str(target))


OPERATOR_COMMANDS = {
    "purge_executions": ["--older-than", "--dry-run"],
    "purge_audit": ["--older-than", "--dry-run"],
    "recover_executions": ["--json"],
    "run_workflow": ["--input", "--timeout", "--dry-run"],
    "create_api_key": ["--scope", "--expires-in-days"],
    "cleanup_guests": ["--dry-run"],
    "export_workflows": ["--user", "--out"],
    "import_workflows": ["--user", "FILE"],
}


@pytest.mark.parametrize(("name", "words"), OPERATOR_COMMANDS.items(), ids=list(OPERATOR_COMMANDS))
def test_operator_commands_have_help(name, words):
    app = get_commands()[name]
    text = load_command_class(app, name).create_parser("manage.py", name).format_help()
    for word in words:
        assert word in text
