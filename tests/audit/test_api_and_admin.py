"""``GET /api/v1/audit`` for staff, the read-only audit admin, and the retention purge."""

from __future__ import annotations

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command, load_command_class
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from audit.context import audit_scope
from audit.models import AuditEvent
from audit.services import audit_record
from tests.clients import client_for

pytestmark = pytest.mark.django_db

URL = "/api/v1/audit"


def event(action: str = "thing.happened", *, days_ago: float = 0, **fields) -> AuditEvent:
    row = audit_record(action=action, actor=None, **fields)
    if days_ago:
        AuditEvent.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))
        row.refresh_from_db()
    return row


@pytest.fixture
def staff(make_user):
    return make_user(is_staff=True)


class TestApi:
    def test_staff_only(self, api_client, auth_client, staff):
        assert api_client.get(URL).status_code == 401
        assert auth_client.get(URL).json()["error"]["code"] == "FORBIDDEN"
        assert client_for(staff).get(URL).status_code == 200

    def test_items_newest_first_and_paginated(self, staff):
        AuditEvent.objects.all().delete()
        for n in range(3):
            event(f"thing.n{n}", days_ago=3 - n)
        body = client_for(staff).get(URL, {"size": 2}).json()
        assert (body["total"], body["pages"], body["size"]) == (3, 2, 2)
        assert [i["action"] for i in body["items"]] == ["thing.n2", "thing.n1"]
        assert set(body["items"][0]) == {
            "id",
            "created_at",
            "actor",
            "actor_email",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "ip",
            "user_agent",
            "request_id",
            "source",
        }

    def test_filters(self, staff, make_user):
        someone = make_user()
        AuditEvent.objects.all().delete()
        with audit_scope(source="cli"):
            audit_record(action="workflow.updated", actor=someone, object_type="workflows.workflow", object_id="w1")
        audit_record(action="auth.login", actor=someone, obj=someone)
        event("auth.login_failed", days_ago=10)
        client = client_for(staff)

        def actions(**params) -> list[str]:
            response = client.get(URL, params)
            assert response.status_code == 200, response.content
            return sorted(i["action"] for i in response.json()["items"])

        assert actions(actor=str(someone.pk)) == ["auth.login", "workflow.updated"]
        assert actions(action="auth.*") == ["auth.login", "auth.login_failed"]
        assert actions(action="auth.login") == ["auth.login"]
        assert actions(object_type="workflows.workflow", object_id="w1") == ["workflow.updated"]
        assert actions(source="cli") == ["workflow.updated"]
        since = (timezone.now() - timedelta(days=1)).date().isoformat()
        assert actions(**{"from": since}) == ["auth.login", "workflow.updated"]
        assert actions(to=(timezone.now() - timedelta(days=5)).isoformat()) == ["auth.login_failed"]

    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "yesterday"}, "from"),
            ({"to": "2025-13-45"}, "to"),
            ({"from": "2025-02-01", "to": "2025-01-01"}, "from"),
            ({"actor": "not-a-uuid"}, "actor"),
            ({"source": "moon"}, "source"),
        ],
    )
    def test_bad_filters_are_400_with_the_field(self, staff, params, field):
        response = client_for(staff).get(URL, params)
        assert response.status_code == 400
        assert [d["field"] for d in response.json()["error"]["details"]] == [field]


class TestAdmin:
    def test_read_only_even_for_superusers(self, make_user):
        root = make_user(is_staff=True, is_superuser=True)
        row = event("workflow.updated", object_type="workflows.workflow", object_id="x", changes={"name": "a"})
        client = Client()
        client.force_login(root)
        base = "/admin/audit/auditevent/"
        changelist = client.get(base)
        assert changelist.status_code == 200
        html = changelist.content.decode()
        assert "workflow.updated" in html
        assert "delete_selected" not in html
        assert client.get(f"{base}add/").status_code == 403
        detail = client.get(f"{base}{row.pk}/change/")
        assert detail.status_code == 200
        assert 'name="_save"' not in detail.content.decode()
        assert client.post(f"{base}{row.pk}/change/", {"action": "changed"}).status_code == 403
        assert client.get(f"{base}{row.pk}/delete/").status_code == 403
        assert client.post(f"{base}{row.pk}/delete/", {"post": "yes"}).status_code == 403
        bulk = client.post(base, {"action": "delete_selected", "_selected_action": [str(row.pk)], "post": "yes"})
        assert bulk.status_code in (200, 302)
        assert AuditEvent.objects.filter(pk=row.pk).exists()
        row.refresh_from_db()
        assert row.action == "workflow.updated"

    def test_search_and_filters(self, make_user):
        root = make_user(is_staff=True, is_superuser=True)
        event("auth.login_failed", object_repr="mallory@example.com")
        event("workflow.created", object_repr="Nightly")
        client = Client()
        client.force_login(root)
        found = client.get("/admin/audit/auditevent/", {"q": "mallory"}).content.decode()
        assert "mallory@example.com" in found
        assert "Nightly" not in found
        filtered = client.get("/admin/audit/auditevent/", {"action": "workflow.created"}).content.decode()
        assert "Nightly" in filtered
        assert "mallory@example.com" not in filtered

    def test_refused_to_non_staff(self, user):
        client = Client()
        client.force_login(user)
        response = client.get("/admin/audit/auditevent/")
        assert response.status_code == 302
        assert "/admin/login/" in response["Location"]


class TestPurge:
    def run(self, *args: str) -> str:
        out = StringIO()
        call_command("purge_audit", *args, stdout=out)
        return out.getvalue()

    def test_retention_setting_and_dry_run(self, settings):
        AuditEvent.objects.all().delete()
        old, recent = event("old.event", days_ago=400), event("recent.event", days_ago=10)
        assert self.run("--dry-run") == "Would delete 1 audit event(s).\n"
        assert AuditEvent.objects.filter(pk=old.pk).exists()
        assert self.run() == "Deleted 1 audit event(s).\n"
        assert not AuditEvent.objects.filter(pk=old.pk).exists()
        assert AuditEvent.objects.filter(pk=recent.pk).exists()
        purged = AuditEvent.objects.get(action="audit.purged")
        assert (purged.source, purged.changes["deleted"]) == ("cli", 1)
        assert self.run("--older-than", "5d") == "Deleted 1 audit event(s).\n"
        assert not AuditEvent.objects.filter(pk=recent.pk).exists()
        settings.FLOWBUILDER_AUDIT_RETENTION_DAYS = 0
        assert "kept forever" in self.run()

    def test_periodic_task_uses_the_setting(self, settings):
        from audit.tasks import purge

        AuditEvent.objects.all().delete()
        event("old.event", days_ago=40)
        settings.FLOWBUILDER_AUDIT_RETENTION_DAYS = 30
        assert purge.run() == 1
        settings.FLOWBUILDER_AUDIT_RETENTION_DAYS = 0
        event("old.event", days_ago=40)
        assert purge.run() == 0

    @pytest.mark.parametrize("value", ["30", "30x", "-1d", "0d", "d"])
    def test_bad_age(self, value):
        with pytest.raises(CommandError, match="--older-than"):
            self.run("--older-than", value)

    def test_help(self):
        text = load_command_class("audit", "purge_audit").create_parser("manage.py", "purge_audit").format_help()
        for word in ("--older-than", "--dry-run", "FLOWBUILDER_AUDIT_RETENTION_DAYS"):
            assert word in text
