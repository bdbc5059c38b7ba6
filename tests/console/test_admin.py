"""The staff console: every admin page renders for staff and not for others, changelists cost a
constant number of queries, and operations go through the services and are audited."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib import admin
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import ApiKey, User
from accounts.services import api_key_create
from analytics.models import ApiUsageDaily
from audit.models import AuditEvent
from audit.services import audit_record
from executions.models import Execution, ExecutionLog, StepRun
from tests.factories import ExecutionFactory, UserFactory, WorkflowFactory
from tests.workflows.helpers import linear, node
from workflows import services as workflow_services
from workflows.models import Tag, Workflow, WorkflowShare, WorkflowVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def root(make_user) -> User:
    return make_user(is_staff=True, is_superuser=True)


@pytest.fixture
def console(root) -> Client:
    client = Client()
    client.force_login(root)
    return client


def run_with_steps(**kwargs) -> Execution:
    execution = ExecutionFactory(**kwargs)
    now = timezone.now()
    StepRun.objects.bulk_create(
        StepRun(
            execution=execution,
            node_id=n["id"],
            node_type=n["type"],
            status="completed",
            started_at=now,
            completed_at=now + timedelta(seconds=1),
        )
        for n in execution.workflow_version.definition["nodes"]
    )
    ExecutionLog.objects.create(execution=execution, message="hello", node_id="start")
    return execution


class TestPagesRender:
    def test_every_changelist_renders_for_a_superuser(self, console):
        run_with_steps()
        for model in admin.site._registry:
            url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
            response = console.get(url)
            assert response.status_code == 200, (url, response.status_code)

    def test_change_pages_of_our_models(self, console, root):
        execution = run_with_steps(error={"message": "boom"}, input_data={"n": 1})
        workflow = execution.workflow
        workflow_services.workflow_update(
            workflow=workflow, actor=root, definition=linear(node("start", "trigger.manual"))
        )
        share = WorkflowShare.objects.create(workflow=workflow, user=UserFactory())
        key, _ = api_key_create(user=root, granted=root.api_permissions, name="k")
        objects = [
            execution,
            StepRun.objects.filter(execution=execution).first(),
            ExecutionLog.objects.first(),
            workflow,
            WorkflowVersion.objects.filter(workflow=workflow).first(),
            share,
            Tag.objects.create(name="ops"),
            root,
            key,
            AuditEvent.objects.first(),
            ApiUsageDaily.objects.create(user=root, day=timezone.now().date(), count=3),
        ]
        for obj in objects:
            url = reverse(f"admin:{obj._meta.app_label}_{obj._meta.model_name}_change", args=[obj.pk])
            response = console.get(url)
            assert response.status_code == 200, (url, response.status_code)
        page = console.get(reverse("admin:executions_execution_change", args=[execution.pk])).content.decode()
        assert "boom" in page
        assert "Rerun with the same input" in page  # retry only for a run that failed (test_console_pages)
        assert "hello" in page  # the log inline

    def test_refused_to_non_staff_and_anonymous(self, user):
        anonymous = Client()
        member = Client()
        member.force_login(user)
        for url in (
            "/admin/",
            "/admin/executions/execution/",
            "/admin/workflows/workflow/",
            "/admin/audit/auditevent/",
        ):
            for client in (anonymous, member):
                response = client.get(url)
                assert response.status_code == 302, url
                assert response["Location"].startswith("/admin/login/")

    def test_staff_without_permissions_see_the_dashboard_but_no_lists(self, make_user):
        client = Client()
        client.force_login(make_user(is_staff=True))
        index = client.get("/admin/")
        assert index.status_code == 200
        assert "console-dashboard" in index.content.decode()
        assert client.get("/admin/executions/execution/").status_code == 403


@pytest.mark.parametrize(
    "name",
    [
        "executions_execution",
        "executions_steprun",
        "executions_executionlog",
        "workflows_workflow",
        "workflows_workflowversion",
        "audit_auditevent",
    ],
)
def test_search_and_facets(console, name):
    execution = run_with_steps()
    url = reverse(f"admin:{name}_changelist")
    for query in ({"q": str(execution.pk)}, {"q": "no such thing"}, {"q": execution.workflow.name}, {"_facets": "1"}):
        assert console.get(url, query).status_code == 200, query
    found = console.get(reverse("admin:executions_execution_changelist"), {"q": str(execution.pk)})
    assert [e.pk for e in found.context["cl"].result_list] == [execution.pk]


# --- query counts -----------------------------------------------------------------------------------------


def _execution() -> None:
    run_with_steps(triggered_by=UserFactory())


def _step() -> None:
    run_with_steps()


def _workflow() -> None:
    workflow = WorkflowFactory()
    workflow.tags.add(Tag.objects.get_or_create(name=f"t{Workflow.objects.count()}")[0])
    ExecutionFactory(workflow=workflow)


def _share() -> None:
    WorkflowShare.objects.create(workflow=WorkflowFactory(), user=UserFactory())


def _api_key() -> None:
    user = UserFactory()
    api_key_create(user=user, granted=user.api_permissions, name="k")


def _audit() -> None:
    audit_record(action="thing.done", actor=UserFactory(), object_type="x.y", object_id="1")


def _usage() -> None:
    ApiUsageDaily.objects.create(user=UserFactory(), day=timezone.now().date(), count=1)


def _credential() -> None:
    from integrations.services import credential_create

    credential = credential_create(owner=UserFactory(), name="c", type="http_bearer", data={"token": "t0123456789"})
    from integrations.models import Integration

    Integration.objects.create(owner=credential.owner, type="slack", name="i", credential=credential)


def _ai_usage() -> None:
    from integrations.models import AIUsage

    AIUsage.objects.create(user=UserFactory(), provider="p", base_url="https://p/v1", model="m", total_tokens=1)


def _template() -> None:
    from templates_app.models import Template

    template = Template.objects.create(owner=UserFactory(), name="t", definition={"nodes": [], "edges": []})
    template.parameters.create(name="who")


def _stored_file() -> None:
    from files.models import StoredFile

    StoredFile.objects.create(
        owner=UserFactory(),
        name="a.csv",
        key=f"k{StoredFile.objects.count()}",
        content_type="text/csv",
        category="data",
        size=1,
        sha256="0" * 64,
    )


CHANGELISTS: list[tuple[str, Callable[[], None]]] = [
    ("executions_execution", _execution),
    ("executions_steprun", _step),
    ("executions_executionlog", _step),
    ("workflows_workflow", _workflow),
    ("workflows_workflowversion", _workflow),
    ("workflows_workflowshare", _share),
    ("workflows_tag", _workflow),
    ("accounts_user", lambda: UserFactory()),
    ("accounts_apikey", _api_key),
    ("audit_auditevent", _audit),
    ("analytics_apiusagedaily", _usage),
    ("integrations_credential", _credential),
    ("integrations_integration", _credential),
    ("integrations_aiusage", _ai_usage),
    ("templates_app_template", _template),
    ("files_storedfile", _stored_file),
]


@pytest.mark.parametrize(("name", "make"), CHANGELISTS, ids=[name for name, _ in CHANGELISTS])
def test_changelist_query_count_does_not_grow_with_rows(console, name, make):
    url = reverse(f"admin:{name}_changelist")

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            response = console.get(url)
        assert response.status_code == 200
        return len(captured)

    for _ in range(2):
        make()
    few = queries()
    for _ in range(8):
        make()
    assert queries() == few


# --- operations -------------------------------------------------------------------------------------------


def post_action(client: Client, name: str, action: str, ids: list) -> None:
    url = reverse(f"admin:{name}_changelist")
    response = client.post(url, {"action": action, "_selected_action": [str(i) for i in ids]})
    assert response.status_code == 302, response.content.decode()[:2000]


class TestExecutionOperations:
    def test_cancel_retry_rerun_actions_go_through_the_services(
        self, console, root, django_capture_on_commit_callbacks
    ):
        active = run_with_steps(status=Execution.Status.RUNNING)
        failed = run_with_steps(status=Execution.Status.FAILED)
        StepRun.objects.filter(execution=failed, node_id="out").update(status="failed")
        done = run_with_steps(status=Execution.Status.COMPLETED)
        with django_capture_on_commit_callbacks() as callbacks:
            post_action(console, "executions_execution", "cancel_selected", [active.pk, done.pk])
        assert len(callbacks) >= 1  # the cancel's events go out after commit
        active.refresh_from_db()
        assert active.status == Execution.Status.CANCELLED
        assert AuditEvent.objects.get(action="execution.cancelled").actor == root
        assert not AuditEvent.objects.filter(action="execution.cancelled", object_id=str(done.pk)).exists()

        post_action(console, "executions_execution", "retry_selected", [failed.pk])
        retry = Execution.objects.get(retry_of=failed)
        assert retry.trigger == Execution.Trigger.RETRY
        assert retry.triggered_by == root
        event = AuditEvent.objects.get(action="execution.retried")
        assert (event.actor, event.source, event.changes["new_execution_id"]) == (root, "admin", str(retry.pk))
        assert AuditEvent.objects.get(action="execution.started", object_id=str(retry.pk)).actor == root

        post_action(console, "executions_execution", "rerun_selected", [done.pk])
        rerun = Execution.objects.get(trigger=Execution.Trigger.RERUN)
        assert AuditEvent.objects.get(action="execution.rerun").changes == {"new_execution_id": str(rerun.pk)}

    def test_buttons_on_a_run_page(self, console, root):
        failed = run_with_steps(status=Execution.Status.FAILED)
        url = reverse("admin:executions_execution_operate", args=[failed.pk, "retry"])
        assert console.get(url).status_code == 405  # POST only
        response = console.post(url)
        retry = Execution.objects.get(retry_of=failed)
        assert response["Location"] == reverse("admin:executions_execution_change", args=[retry.pk])
        refused = console.post(reverse("admin:executions_execution_operate", args=[failed.pk, "cancel"]))
        assert refused.status_code == 302
        assert AuditEvent.objects.filter(action="execution.cancelled").count() == 0
        assert (
            console.post(reverse("admin:executions_execution_operate", args=[failed.pk, "explode"])).status_code == 403
        )

    def test_staff_without_the_permission_cannot_operate(self, make_user):
        viewer = make_user(is_staff=True)
        from django.contrib.auth.models import Permission

        viewer.user_permissions.add(Permission.objects.get(codename="view_execution"))
        client = Client()
        client.force_login(viewer)
        execution = run_with_steps(status=Execution.Status.RUNNING)
        assert client.get(reverse("admin:executions_execution_change", args=[execution.pk])).status_code == 200
        assert (
            client.post(reverse("admin:executions_execution_operate", args=[execution.pk, "cancel"])).status_code == 403
        )
        client.post(
            reverse("admin:executions_execution_changelist"),
            {"action": "cancel_selected", "_selected_action": [str(execution.pk)]},
        )
        execution.refresh_from_db()
        assert execution.status == Execution.Status.RUNNING

    def test_filters_the_dashboard_links_use(self, console):
        old = run_with_steps(status=Execution.Status.FAILED)
        Execution.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=3))
        recent_failed = run_with_steps(status=Execution.Status.TIMED_OUT)
        slow = run_with_steps(status=Execution.Status.COMPLETED)
        now = timezone.now()
        Execution.objects.filter(pk=slow.pk).update(started_at=now - timedelta(seconds=30), completed_at=now)
        url = reverse("admin:executions_execution_changelist")
        since = (timezone.now() - timedelta(hours=24)).isoformat()

        def listed(params) -> set[str]:
            response = console.get(url, params)
            assert response.status_code == 200, response.content.decode()[:500]
            return {e.pk for e in response.context["cl"].result_list}

        assert listed({"status__in": "failed,timed_out", "created_at__gte": since, "kind": "top"}) == {recent_failed.pk}
        assert listed({"duration": "10to60"}) == {slow.pk}
        assert listed({"workflow": str(slow.workflow_id)}) == {slow.pk}
        assert listed({"workflow": slow.workflow.name}) == {slow.pk}
        assert listed({"owner": slow.owner.email}) == {slow.pk}
        assert listed({"o": "-5"})  # by duration, slowest first
        assert console.get(url, {"o": "-5"}).context["cl"].result_list[0].pk == slow.pk


class TestWorkflowConsole:
    def test_activate_and_deactivate_through_the_service(self, console, root):
        on, off = WorkflowFactory(is_active=True), WorkflowFactory(is_active=False)
        post_action(console, "workflows_workflow", "deactivate_selected", [on.pk, off.pk])
        assert not Workflow.objects.get(pk=on.pk).is_active
        event = AuditEvent.objects.get(action="workflow.updated", object_id=str(on.pk))
        assert (event.actor, event.source, event.changes) == (root, "admin", {"is_active": {"old": True, "new": False}})
        assert not AuditEvent.objects.filter(action="workflow.updated", object_id=str(off.pk)).exists()
        post_action(console, "workflows_workflow", "activate_selected", [on.pk])
        assert Workflow.objects.get(pk=on.pk).is_active

    def test_delete_through_the_service_is_audited(self, console, root):
        workflow = run_with_steps().workflow
        confirm = console.get(reverse("admin:workflows_workflow_delete", args=[workflow.pk])).content.decode()
        assert "Runs (with their steps and logs): 1" in confirm
        response = console.post(reverse("admin:workflows_workflow_delete", args=[workflow.pk]), {"post": "yes"})
        assert response.status_code == 302
        assert not Workflow.objects.filter(pk=workflow.pk).exists()
        assert AuditEvent.objects.get(action="workflow.deleted", object_id=str(workflow.pk)).actor == root

    def test_version_diff(self, console, root):
        workflow = WorkflowFactory(definition=linear(node("start", "trigger.manual"), node("a", "transform", value=1)))
        workflow_services.workflow_update(
            workflow=workflow,
            actor=root,
            definition=linear(node("start", "trigger.manual"), node("a", "transform", value=2)),
        )
        url = reverse("admin:workflows_workflow_diff", args=[workflow.pk])
        page = console.get(url)
        assert page.status_code == 200
        html = page.content.decode()
        assert '<div class="del">-        &quot;value&quot;: 1' in html
        assert '<div class="add">+        &quot;value&quot;: 2' in html
        same = console.get(url, {"a": 2, "b": 2}).content.decode()
        assert "are the same" in same
        assert console.get(url, {"b": 9}).status_code == 404
        change = console.get(reverse("admin:workflows_workflow_change", args=[workflow.pk])).content.decode()
        assert f"{url}?a=1&amp;b=2" in change  # the versions inline links to it

    def test_share_admin_uses_the_service_and_its_rules(self, console, root):
        workflow, friend = WorkflowFactory(), UserFactory()
        url = reverse("admin:workflows_workflowshare_add")
        refused = console.post(url, {"workflow": workflow.pk, "user": workflow.owner_id, "role": "viewer"})
        assert refused.status_code == 200
        assert "The owner already has full access" in refused.content.decode()
        created = console.post(url, {"workflow": workflow.pk, "user": friend.pk, "role": "editor"})
        assert created.status_code == 302
        share = WorkflowShare.objects.get(workflow=workflow, user=friend)
        assert share.role == "editor"
        assert AuditEvent.objects.get(action="workflow_share.created").actor == root
        console.post(
            reverse("admin:workflowshare_delete", args=[share.pk])
            if False
            else reverse("admin:workflows_workflowshare_delete", args=[share.pk]),
            {"post": "yes"},
        )
        assert not WorkflowShare.objects.filter(pk=share.pk).exists()
        assert AuditEvent.objects.get(action="workflow_share.deleted").actor == root


class TestAccountsConsole:
    def test_deleting_a_user_with_runs(self, console, root):
        owner = run_with_steps().owner
        url = reverse("admin:accounts_user_delete", args=[owner.pk])
        assert "Workflows: 1" in console.get(url).content.decode()
        assert console.post(url, {"post": "yes"}).status_code == 302
        assert not User.objects.filter(pk=owner.pk).exists()
        assert AuditEvent.objects.get(action="user.deleted", object_id=str(owner.pk)).actor == root

    def test_revoke_api_keys_action(self, console, root):
        key, _ = api_key_create(user=root, granted=root.api_permissions, name="k")
        post_action(console, "accounts_apikey", "revoke", [key.pk])
        assert ApiKey.objects.get(pk=key.pk).revoked_at is not None
        assert AuditEvent.objects.get(action="api_key.revoked").actor == root

    def test_role_change_in_the_admin_is_audited(self, console, root):
        from django.contrib.auth.models import Group

        from tests.console.helpers import form_data

        member = UserFactory()
        url = reverse("admin:accounts_user_change", args=[member.pk])
        data = form_data(console.get(url).content.decode(), "user_form")
        data["groups"] = [str(Group.objects.get(name="viewer").pk)]
        response = console.post(url, data)
        assert response.status_code == 302, response.content.decode()[:3000]
        changes = [
            e.changes for e in AuditEvent.objects.filter(action="user.updated", object_id=str(member.pk), actor=root)
        ]
        assert {"groups": {"removed": ["editor"]}} in changes or {"groups": {"added": ["viewer"]}} in changes
        assert {"groups": {"added": ["viewer"]}} in changes
