"""``GET /api/v1/analytics/usage|workflows|costs``: figures that match the runs, calls and AI usage made here."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.cache import cache
from django.utils import timezone

from analytics.models import ApiUsageDaily
from analytics.usage import flush_api_usage
from executions.models import Execution
from integrations.models import AIUsage
from tests.clients import client_for
from tests.factories import ExecutionFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

USAGE, WORKFLOWS, COSTS = "/api/v1/analytics/usage", "/api/v1/analytics/workflows", "/api/v1/analytics/costs"


def run(workflow, status=Execution.Status.COMPLETED, seconds: float | None = None, days_ago: float = 0, **fields):
    execution = ExecutionFactory(workflow=workflow, status=status, **fields)
    created = timezone.now() - timedelta(days=days_ago)
    times = {"created_at": created}
    if seconds is not None:
        times.update(started_at=created, completed_at=created + timedelta(seconds=seconds))
    Execution.objects.filter(pk=execution.pk).update(**times)
    return execution


@pytest.fixture
def runs(user):
    """The user's runs: 'Sync' 3 succeeded (1, 2, 3 s) + 1 failed (4 s) + 1 running; 'Report' 1 timed out (10 s)
    and 1 cancelled; plus a child run, another user's run and a 40-day-old run, none of which count by default."""
    sync, report = WorkflowFactory(owner=user, name="Sync"), WorkflowFactory(owner=user, name="Report")
    for seconds in (1, 2, 3):
        run(sync, seconds=seconds)
    run(sync, Execution.Status.FAILED, seconds=4)
    parent = run(sync, Execution.Status.RUNNING)
    run(sync, seconds=50, parent=parent)
    run(report, Execution.Status.TIMED_OUT, seconds=10)
    run(report, Execution.Status.CANCELLED)
    run(sync, seconds=100, days_ago=40)
    run(WorkflowFactory(), seconds=7)
    return sync, report


class TestUsage:
    def test_numbers_match_the_runs(self, auth_client, user, runs):
        response = auth_client.get(USAGE)
        assert response.status_code == 200, response.content
        body = response.json()
        assert body["user"] == {"id": str(user.pk), "email": user.email}
        assert body["executions"] == {
            "total": 7,
            "completed": 3,
            "failed": 2,
            "cancelled": 1,
            "active": 1,
            "success_rate": 0.6,
            "average_duration": 4.0,  # (1 + 2 + 3 + 4 + 10) / 5
        }
        assert body["llm"] == {"requests": 0, "total_tokens": 0, "cost": 0.0}
        assert len(body["daily"]) == 31
        today = body["daily"][-1]
        assert today["date"] == timezone.now().date().isoformat()
        assert (today["executions"], today["completed"], today["failed"]) == (7, 3, 2)
        assert sum(day["executions"] for day in body["daily"]) == 7

    def test_date_range(self, auth_client, runs):
        since = (timezone.now() - timedelta(days=45)).date().isoformat()
        assert auth_client.get(USAGE, {"from": since}).json()["executions"]["total"] == 8
        until = (timezone.now() - timedelta(days=35)).date().isoformat()
        old = auth_client.get(USAGE, {"from": since, "to": until}).json()
        assert old["executions"]["total"] == 1
        assert old["executions"]["average_duration"] == 100.0
        assert len(old["daily"]) == 11

    def test_api_calls_are_counted_and_flushed_once(self, auth_client, user):
        for _ in range(3):
            assert auth_client.get("/api/v1/auth/me").status_code == 200
        assert auth_client.get(USAGE).json()["api_calls"] == 3  # the cached counter
        assert flush_api_usage() == 4  # the usage call itself counted after it answered
        assert ApiUsageDaily.objects.get(user=user).count == 4
        body = auth_client.get(USAGE).json()
        assert body["api_calls"] == 4  # the database row, not counted twice
        assert body["daily"][-1]["api_calls"] == 4
        assert flush_api_usage() == 1
        assert ApiUsageDaily.objects.get(user=user).count == 5

    def test_anonymous_calls_are_not_counted(self, api_client, user):
        api_client.get("/api/v1/monitoring/health")
        api_client.get("/api/v1/auth/me")
        assert flush_api_usage() == 0

    def test_staff_may_ask_about_another_user(self, make_user, user, runs):
        staff = make_user(is_staff=True)
        body = client_for(staff).get(USAGE, {"user": str(user.pk)}).json()
        assert body["user"]["email"] == user.email
        assert body["executions"]["total"] == 7
        assert client_for(staff).get(USAGE).json()["executions"]["total"] == 0

    def test_others_may_not(self, auth_client, make_user):
        other = make_user()
        response = auth_client.get(USAGE, {"user": str(other.pk)})
        assert response.status_code == 403
        assert response.json()["error"]["details"][0]["field"] == "user"

    def test_unknown_user_for_staff(self, make_user):
        response = client_for(make_user(is_staff=True)).get(USAGE, {"user": "00000000-0000-0000-0000-000000000000"})
        assert response.status_code == 404

    @pytest.mark.parametrize("url", [USAGE, WORKFLOWS, COSTS])
    @pytest.mark.parametrize(
        ("params", "field"),
        [
            ({"from": "last week"}, "from"),
            ({"to": "2025-02-30"}, "to"),
            ({"from": "2025-03-01", "to": "2025-02-01"}, "from"),
            ({"from": "2020-01-01", "to": "2025-01-01"}, "from"),
            ({"user": "nope"}, "user"),
        ],
    )
    def test_bad_parameters_are_400_with_the_field(self, auth_client, url, params, field):
        response = auth_client.get(url, params)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["code"] == "VALIDATION_ERROR"
        assert [d["field"] for d in error["details"]] == [field]

    def test_iso_times_with_offsets(self, auth_client, runs):
        start = (timezone.now() - timedelta(hours=1)).isoformat()
        # An unencoded "+00:00" arrives as " 00:00".
        response = auth_client.get(f"{USAGE}?from={start}")
        assert response.status_code == 200
        assert response.json()["executions"]["total"] == 7


class TestWorkflows:
    def test_rows_per_workflow(self, auth_client, runs):
        sync, _ = runs
        body = auth_client.get(WORKFLOWS).json()
        assert (body["total"], body["page"]) == (2, 1)
        first, second = body["items"]
        assert first["workflow_id"] == str(sync.pk)
        assert (first["name"], first["executions"], first["completed"], first["failed"], first["active"]) == (
            "Sync",
            5,
            3,
            1,
            1,
        )
        assert first["success_rate"] == 0.75
        assert first["average_duration"] == 2.5
        assert second["name"] == "Report"
        assert (second["executions"], second["success_rate"], second["average_duration"]) == (2, 0.0, 10.0)
        assert second["last_run_at"] is not None

    def test_paginated(self, auth_client, runs):
        body = auth_client.get(WORKFLOWS, {"size": 1, "page": 2}).json()
        assert (body["total"], body["pages"], [i["name"] for i in body["items"]]) == (2, 2, ["Report"])

    def test_nothing_ran(self, auth_client):
        assert auth_client.get(WORKFLOWS).json()["items"] == []


class TestCosts:
    def test_zeros_while_nothing_is_recorded(self, auth_client):
        body = auth_client.get(COSTS).json()
        assert body["available"] is True
        assert (body["requests"], body["total_tokens"], body["cost"], body["providers"], body["models"]) == (
            0,
            0,
            0.0,
            [],
            [],
        )

    def test_unavailable_without_an_ai_usage_model(self, auth_client, settings):
        settings.FLOWBUILDER_AI_USAGE_MODEL = ""
        assert auth_client.get(COSTS).json()["available"] is False
        settings.FLOWBUILDER_AI_USAGE_MODEL = "nowhere.AIUsage"
        assert auth_client.get(COSTS).json()["available"] is False

    def test_tokens_and_cost_per_provider_and_model(self, auth_client, user, make_user):
        def record(owner, provider, model, prompt=0, completion=0, cost="0", days_ago=0):
            row = AIUsage.objects.create(
                user=owner,
                provider=provider,
                base_url=f"https://{provider}/v1",
                model=model,
                prompt_tokens=prompt,
                completion_tokens=completion,
                total_tokens=prompt + completion,
                cost=Decimal(cost),
            )
            if days_ago:
                AIUsage.objects.filter(pk=row.pk).update(created_at=timezone.now() - timedelta(days=days_ago))

        record(user, "api.openai.com", "gpt-4o", 100, 50, "0.010000")
        record(user, "api.openai.com", "gpt-4o-mini", 200, 100, "0.002500")
        record(user, "ollama.local", "llama3", 10, 5)
        record(make_user(), "api.openai.com", "gpt-4o", 999, 0, "1")
        record(user, "api.openai.com", "gpt-4o", 500, 0, "5", days_ago=60)
        body = auth_client.get(COSTS).json()
        assert body["available"] is True
        assert (body["requests"], body["total_tokens"], body["cost"]) == (3, 465, 0.0125)
        assert body["providers"] == [
            {
                "provider": "api.openai.com",
                "requests": 2,
                "prompt_tokens": 300,
                "completion_tokens": 150,
                "total_tokens": 450,
                "cost": 0.0125,
            },
            {
                "provider": "ollama.local",
                "requests": 1,
                "prompt_tokens": 10,
                "completion_tokens": 5,
                "total_tokens": 15,
                "cost": 0.0,
            },
        ]
        assert [(m["provider"], m["model"], m["total_tokens"]) for m in body["models"]] == [
            ("api.openai.com", "gpt-4o", 150),
            ("api.openai.com", "gpt-4o-mini", 300),
            ("ollama.local", "llama3", 15),
        ]
        assert auth_client.get(USAGE).json()["llm"] == {"requests": 3, "total_tokens": 465, "cost": 0.0125}
        since = (timezone.now() - timedelta(days=90)).date().isoformat()
        assert auth_client.get(COSTS, {"from": since}).json()["cost"] == 5.0125


def test_counter_survives_a_cleared_cache_between_flushes(user):
    from analytics.usage import count_api_call

    count_api_call(user.pk)
    count_api_call(user.pk)
    assert flush_api_usage() == 2
    cache.clear()
    count_api_call(user.pk)
    assert flush_api_usage() == 1
    assert ApiUsageDaily.objects.get(user=user).count == 3
