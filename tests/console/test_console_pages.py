"""The console's role, its pictures (graph, run page, charts), its live socket and the front page."""

from __future__ import annotations

import io
import json
from datetime import timedelta

import pytest
from asgiref.sync import async_to_sync
from channels.testing import WebsocketCommunicator
from django.contrib.auth.models import Group
from django.core.management import call_command
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from accounts.models import User
from accounts.roles import CONSOLE_ROLE
from console.graph import layout, node_changes
from executions.models import Execution, ExecutionLog, StepRun
from flowbuilder.asgi import application
from monitoring.selectors import hourly_runs
from tests.factories import ExecutionFactory
from tests.workflows.helpers import edge, linear, node

pytestmark = pytest.mark.django_db


def branching() -> dict:
    return {
        "nodes": [
            node("start", "trigger.manual"),
            node("check", "condition", expression="{{ input.n > 1 }}"),
            node("big", "output", value="big"),
            node("small", "output", value="small"),
        ],
        "edges": [edge("start", "check"), edge("check", "big", "true"), edge("check", "small", "false")],
    }


class TestConsoleRole:
    def test_the_demo_user_can_use_the_whole_console(self):
        call_command("create_demo_user", stdout=io.StringIO())
        demo = User.objects.get(email="demo@flowbuilder.local")
        assert not demo.is_superuser
        assert demo.groups.filter(name=CONSOLE_ROLE).exists()
        client = Client()
        client.force_login(demo)
        index = client.get(reverse("admin:index"))
        assert b"You don't have permission" not in index.content
        for name in ("executions_execution", "workflows_workflow", "audit_auditevent", "accounts_user"):
            assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200, name
        # An operator, not an administrator: users and credentials are not theirs to change.
        assert not demo.has_perm("accounts.change_user")
        assert not demo.has_perm("integrations.change_credential")
        assert demo.has_perm("executions.change_execution")

    def test_grant_console_gives_and_takes_the_role(self, make_user):
        user = make_user()
        call_command("grant_console", user.email, stdout=io.StringIO())
        user.refresh_from_db()
        assert user.is_staff
        assert user.has_perm("executions.view_execution")
        call_command("grant_console", user.email, "--revoke", stdout=io.StringIO())
        user = User.objects.get(pk=user.pk)
        assert not user.is_staff
        assert not user.groups.filter(name=CONSOLE_ROLE).exists()

    def test_the_role_is_kept_in_step_after_migrations(self):
        group = Group.objects.get(name=CONSOLE_ROLE)
        group.permissions.clear()
        call_command("migrate", verbosity=0)
        assert group.permissions.filter(codename="view_execution").exists()


class TestGraph:
    def test_nodes_are_laid_out_left_to_right_with_branches_in_one_column(self):
        drawing = layout(branching())
        at = {box.id: (box.x, box.y) for box in drawing.boxes}
        assert at["start"][0] < at["check"][0] < at["big"][0]
        assert at["big"][0] == at["small"][0]
        assert at["big"][1] != at["small"][1]
        assert {line.port for line in drawing.lines} == {"", "true", "false"}
        assert drawing.width >= at["big"][0] + drawing.node_width

    def test_unconnected_parts_are_stacked_and_bad_edges_left_out(self):
        definition = {
            "nodes": [node("a", "trigger.manual"), node("b", "output"), node("lonely", "output")],
            "edges": [edge("a", "b"), edge("a", "ghost")],
        }
        drawing = layout(definition)
        assert len(drawing.lines) == 1
        assert {box.id for box in drawing.boxes} == {"a", "b", "lonely"}
        assert len({box.y for box in drawing.boxes}) == 2

    def test_a_loop_back_is_drawn(self):
        definition = linear(node("a", "trigger.manual"), node("b", "transform", value=1), node("c", "output"))
        definition["edges"].append(edge("c", "b"))
        assert len(layout(definition).lines) == 3

    def test_changes_between_versions(self):
        old = branching()
        new = branching()
        new["nodes"][2]["config"]["value"] = "huge"
        new["nodes"] = [n for n in new["nodes"] if n["id"] != "small"] + [node("log", "transform", value=2)]
        on_old, on_new = node_changes(old, new)
        assert on_old == {"small": "removed", "big": "changed"}
        assert on_new == {"log": "added", "big": "changed"}


class TestPages:
    @pytest.fixture
    def console(self, make_user) -> Client:
        client = Client()
        client.force_login(make_user(is_staff=True, is_superuser=True))
        return client

    def test_the_workflow_page_draws_its_graph(self, console):
        run = ExecutionFactory()
        page = console.get(reverse("admin:workflows_workflow_change", args=[run.workflow_id])).content.decode()
        for node_id in ("start", "double", "out"):
            assert f'data-node-id="{node_id}" data-status=""' in page

    def test_a_run_page_shows_steps_attempts_and_redacted_configs(self, console):
        execution = ExecutionFactory(status=Execution.Status.FAILED)
        definition = execution.workflow_version.definition
        definition["nodes"][1]["config"]["api_key"] = "sk-live-0123456789abcdef"
        execution.workflow_version.save(update_fields=["definition"])
        now = timezone.now()
        StepRun.objects.create(
            execution=execution,
            node_id="start",
            node_type="trigger.manual",
            status="completed",
            attempt=1,
            started_at=now,
            completed_at=now,
        )
        StepRun.objects.create(
            execution=execution,
            node_id="double",
            node_type="transform",
            status="failed",
            attempt=2,
            queued_at=now,
            started_at=now + timedelta(seconds=2),
            completed_at=now + timedelta(seconds=3),
            error={"message": "boom"},
        )
        ExecutionLog.objects.create(
            execution=execution,
            node_id="double",
            level="warning",
            message="Attempt 1 of 2 failed: boom; retrying in 1s",
            data={"attempt": 1, "outcome": "failed", "queued_at": now.isoformat(), "started_at": now.isoformat()},
        )
        response = console.get(reverse("admin:executions_execution_change", args=[execution.pk]))
        page = response.content.decode()
        assert response.context["title"].startswith(execution.workflow.name)
        assert 'data-node-id="double" data-status="failed"' in page
        assert 'data-operation="retry"' in page
        assert 'data-operation="cancel"' not in page  # a run that ended cannot be cancelled
        live = console.get(reverse("admin:executions_execution_live", args=[execution.pk])).json()
        double = next(s for s in live["steps"] if s["node_id"] == "double")
        assert [(a["attempt"], a["status"]) for a in double["attempts"]] == [(1, "failed"), (2, "failed")]
        assert "boom" in double["error"]
        assert "sk-live-0123456789abcdef" not in json.dumps(live)
        assert double["started_at"].endswith("Z") or "+00:00" in double["started_at"]
        assert "." in double["started_at"]  # milliseconds

    def test_the_dashboard_charts(self, console):
        for status in ("completed", "completed", "failed"):
            now = timezone.now()
            ExecutionFactory(status=status, started_at=now - timedelta(seconds=2), completed_at=now)
        hours = hourly_runs()
        assert len(hours) == 24
        assert (sum(h.completed for h in hours), sum(h.failed for h in hours)) == (2, 1)
        p50s = [h.p50_seconds for h in hours if h.p50_seconds is not None]
        assert p50s
        assert all(p == pytest.approx(2, abs=0.1) for p in p50s)
        page = console.get(reverse("admin:index")).content.decode()
        assert page.count('data-status="completed"') >= 1
        assert 'data-series="p95"' in page

    def test_the_front_page(self, client):
        page = client.get("/")
        assert page.status_code == 200
        for href in ("/docs", "/admin/", "/api/v1/monitoring/health", "/openapi.json"):
            assert f'href="{href}"' in page.content.decode()


class TestLiveSocketForStaff:
    """The run page's socket rides on the staff session: same origin only, staff with view permission only."""

    def connect(self, user: User | None, execution: Execution, origin: str = "http://localhost") -> int | str | None:
        client = Client()
        headers = [(b"host", b"localhost"), (b"origin", origin.encode())]
        if user is not None:
            client.force_login(user)
            headers.append((b"cookie", f"sessionid={client.cookies['sessionid'].value}".encode()))

        async def attempt() -> int | str | None:
            socket = WebsocketCommunicator(application, f"/ws/executions/{execution.pk}/", headers=headers)
            connected, _ = await socket.connect(timeout=5)
            if not connected:
                return "refused at the handshake"
            first = await socket.receive_output(timeout=5)
            await socket.disconnect()
            return None if first["type"] == "websocket.send" else first.get("code")

        return async_to_sync(attempt)()

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)
    def test_staff_follow_any_run_from_the_site_and_nobody_else_does(self, make_user):
        execution = ExecutionFactory(status=Execution.Status.RUNNING)
        operator = make_user(is_staff=True)
        operator.groups.add(Group.objects.get(name=CONSOLE_ROLE))
        assert self.connect(operator, execution) is None  # the snapshot came
        assert self.connect(operator, execution, origin="https://evil.example") == "refused at the handshake"
        assert self.connect(make_user(is_staff=True), execution) == 4401  # staff without the console role
        assert self.connect(make_user(), execution) == 4401
        assert self.connect(None, execution) == 4401
