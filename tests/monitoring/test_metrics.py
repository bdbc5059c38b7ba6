"""``GET /api/v1/monitoring/metrics`` (staff JSON) and ``/metrics`` (Prometheus text for scrapers)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from executions.models import Execution, StepRun
from tests.clients import client_for
from tests.factories import ExecutionFactory, WorkflowFactory

pytestmark = pytest.mark.django_db

JSON_URL = "/api/v1/monitoring/metrics"


def families(text: str) -> dict:
    return {family.name: family for family in text_string_to_metric_families(text)}


def sample(family, name: str, **labels) -> float | None:
    for s in family.samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return None


class TestJsonMetrics:
    def test_staff_only(self, api_client, auth_client):
        assert api_client.get(JSON_URL).status_code == 401
        assert auth_client.get(JSON_URL).status_code == 403

    def test_sections(self, make_user):
        workflow = WorkflowFactory(is_active=False)
        ExecutionFactory(workflow=workflow, status=Execution.Status.FAILED)
        ExecutionFactory.create_batch(2, workflow=workflow, status=Execution.Status.COMPLETED)
        response = client_for(make_user(is_staff=True)).get(JSON_URL)
        assert response.status_code == 200
        body = response.json()
        assert set(body) == {"timestamp", "system", "application", "workflows", "ai_usage"}
        system = body["system"]
        assert system["cpu_count"] >= 1
        assert len(system["load_average"]) == 3
        assert system["memory"]["total_bytes"] > 0
        assert 0 <= system["memory"]["used_percent"] <= 100
        assert system["process"]["rss_bytes"] > 0
        application = body["application"]
        assert application["mode"] == "production"
        assert application["users"]["total"] == 2  # the owner and the staff member
        assert application["users"]["staff"] == 1
        assert application["requests"]["total"] >= 0
        flows = body["workflows"]
        assert flows["workflows"] == {"total": 1, "active": 0}
        assert flows["executions_by_status"]["failed"] == 1
        assert flows["executions_by_status"]["completed"] == 2
        assert flows["executions_by_status"]["running"] == 0
        assert flows["last_24h"]["runs"] == 3
        assert flows["queue"]["available"] is True
        assert set(flows["queue"]["queues"]) == {"default", "steps"}
        assert body["ai_usage"] == {
            "available": True,
            "requests": 0,
            "total_tokens": 0,
            "cost": 0.0,
            "providers": [],
            "models": [],
        }


class TestPrometheus:
    def test_refused_without_a_token_or_staff_session(self, user, settings):
        settings.FLOWBUILDER_METRICS_TOKEN = "s3cret-scrape-token"
        anonymous = Client().get("/metrics")
        assert anonymous.status_code == 401
        assert anonymous["WWW-Authenticate"] == 'Bearer realm="metrics"'
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 401
        member = Client()
        member.force_login(user)
        assert member.get("/metrics").status_code == 403
        scraper = Client().get("/metrics", HTTP_AUTHORIZATION="Bearer s3cret-scrape-token")
        assert scraper.status_code == 200
        assert scraper["Content-Type"].startswith("text/plain")
        settings.FLOWBUILDER_METRICS_TOKEN = ""
        assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 401

    def test_output_parses_and_carries_the_figures(self, make_user, auth_client):
        workflow = WorkflowFactory()
        ExecutionFactory(workflow=workflow, status=Execution.Status.FAILED)
        running = ExecutionFactory(workflow=workflow, status=Execution.Status.RUNNING)
        now = timezone.now()
        for seconds in (0.2, 3.0):
            StepRun.objects.create(
                execution=running,
                node_id=f"n{seconds}",
                node_type="http_request",
                status="completed",
                started_at=now - timedelta(seconds=seconds),
                completed_at=now,
            )
        StepRun.objects.create(execution=running, node_id="t", node_type="transform", status="pending")
        staff = Client()
        staff.force_login(make_user(is_staff=True))

        before = families(staff.get("/metrics").content.decode())
        seen_before = (
            sample(before["flowbuilder_http_requests"], "flowbuilder_http_requests_total", view="auth-me", status="200")
            or 0
        )
        assert auth_client.get("/api/v1/auth/me").status_code == 200
        assert auth_client.get("/api/v1/nowhere").status_code == 404

        text = staff.get("/metrics").content.decode()
        parsed = families(text)
        requests = parsed["flowbuilder_http_requests"]
        assert sample(requests, "flowbuilder_http_requests_total", view="auth-me", status="200", method="GET") == (
            seen_before + 1
        )
        assert sample(requests, "flowbuilder_http_requests_total", view="unmatched", status="404") >= 1
        latency = parsed["flowbuilder_http_request_duration_seconds"]
        assert sample(latency, "flowbuilder_http_request_duration_seconds_count", view="auth-me") >= 1

        runs = parsed["flowbuilder_executions"]
        assert sample(runs, "flowbuilder_executions", status="failed") == 1
        assert sample(runs, "flowbuilder_executions", status="running") == 1
        assert sample(runs, "flowbuilder_executions", status="waiting") == 0

        steps = parsed["flowbuilder_step_duration_seconds"]
        assert steps.type == "histogram"
        http = {"node_type": "http_request"}
        assert sample(steps, "flowbuilder_step_duration_seconds_bucket", le="0.25", **http) == 1
        assert sample(steps, "flowbuilder_step_duration_seconds_bucket", le="5.0", **http) == 2
        assert sample(steps, "flowbuilder_step_duration_seconds_bucket", le="+Inf", **http) == 2
        assert sample(steps, "flowbuilder_step_duration_seconds_count", **http) == 2
        assert sample(steps, "flowbuilder_step_duration_seconds_sum", **http) == pytest.approx(3.2, abs=0.01)
        assert sample(steps, "flowbuilder_step_duration_seconds_count", node_type="transform") is None

        queues = parsed["flowbuilder_queue_depth"]
        assert {s.labels["queue"] for s in queues.samples} == {"default", "steps"}
        assert "flowbuilder_oldest_stuck_step_age_seconds" in parsed
        assert "process_cpu_seconds" in parsed  # prometheus-client's process collector
