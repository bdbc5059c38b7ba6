"""Seed 003's and seed 004's examples as their readers would send them."""

from __future__ import annotations

import copy
from datetime import datetime

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from executions.models import Execution
from tests.clients import client_for
from tests.engine_fixtures import wait_finished
from tests.factories import DEFAULT_PASSWORD, UserFactory
from tests.workflows.helpers import simple_definition

pytestmark = pytest.mark.django_db

BASE = "/api/v1"


class TestSeed003:
    def test_register_with_full_name_then_refresh_with_a_bearer_header(self):
        client = APIClient()
        body = {
            "email": "jd@example.com",
            "password": "a-long-passphrase-1",
            "full_name": "John Doe",
            "company": "AutoDealer Inc.",
        }
        registered = client.post(f"{BASE}/auth/register", body, format="json")
        assert registered.status_code == 201, registered.content
        assert (registered.json()["first_name"], registered.json()["last_name"]) == ("John", "Doe")
        assert User.objects.get(email="jd@example.com").get_full_name() == "John Doe"
        tokens = client.post(
            f"{BASE}/auth/login", {"email": "jd@example.com", "password": body["password"]}, format="json"
        )
        refresh = tokens.json()["refresh_token"]
        refreshed = client.post(f"{BASE}/auth/refresh", HTTP_AUTHORIZATION=f"Bearer {refresh}")
        assert refreshed.status_code == 200, refreshed.content
        assert refreshed.json()["token_type"] == "bearer"
        assert refreshed.json()["access_token"]
        # The body still works, and the used token is spent either way.
        again = client.post(f"{BASE}/auth/refresh", {"refresh_token": refresh}, format="json")
        assert again.status_code == 401

    def test_rate_limit_headers_include_the_window(self, auth_client):
        response = auth_client.get(f"{BASE}/workflows")
        assert response["X-RateLimit-Window"] == "60"  # the tightest of 100/minute, 1000/hour, 10000/day
        assert int(response["X-RateLimit-Limit"]) == 100

    def test_refresh_and_logout_do_not_spend_the_login_budget(self, user):
        client = APIClient()
        pairs = [
            client.post(f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
            for _ in range(3)
        ]
        for pair in pairs:
            assert (
                client.post(f"{BASE}/auth/refresh", {"refresh_token": pair.json()["refresh_token"]}).status_code == 200
            )
        for _ in range(12):
            client.post(f"{BASE}/auth/logout", {"refresh_token": "not-a-token"}, format="json")
        # 3 logins spent, 7 left of 10/minute: the 15 token requests counted elsewhere.
        login = client.post(f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
        assert login.status_code == 200
        assert login["X-RateLimit-Remaining"] == "6"

    def test_a_lock_out_and_its_headers_agree(self, user, settings):
        settings.RATE_LIMITS = {**settings.RATE_LIMITS, "auth": ["100/minute"]}
        client = APIClient()
        for i in range(settings.AXES_FAILURE_LIMIT):
            client.post(f"{BASE}/auth/login", {"email": user.email, "password": f"wrong-{i}"}, format="json")
        locked = client.post(f"{BASE}/auth/login", {"email": user.email, "password": DEFAULT_PASSWORD}, format="json")
        assert locked.status_code == 429
        assert locked["X-RateLimit-Remaining"] == "0"
        assert locked["X-RateLimit-Limit"] == str(settings.AXES_FAILURE_LIMIT)
        assert int(locked["X-RateLimit-Reset"]) > int(datetime.now().timestamp())

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the run starts on commit
    def test_execution_status_under_workflows(self, auth_client, user, celery_worker):
        from tests.factories import WorkflowFactory

        workflow = WorkflowFactory(owner=user, definition=simple_definition())
        run = auth_client.post(f"{BASE}/workflows/{workflow.pk}/execute", {"input_data": {"n": 3}}, format="json")
        execution_id = run.json()["execution_id"]
        wait_finished(execution_id)
        alias = auth_client.get(f"{BASE}/workflows/executions/{execution_id}")
        assert alias.status_code == 200
        assert alias.json() == auth_client.get(f"{BASE}/executions/{execution_id}").json()
        assert alias.json()["status"] == "completed"
        other = client_for(UserFactory())
        assert other.get(f"{BASE}/workflows/executions/{execution_id}").status_code == 404

    def test_cross_system_token_answers_expires_at(self, auth_client):
        response = auth_client.post(
            f"{BASE}/auth/cross-system-token",
            {"target_system": "relaycore", "permissions": ["workflow:read"]},
            format="json",
        )
        assert response.status_code == 201, response.content
        body = response.json()
        assert body["expires_at"].endswith("Z")
        expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00"))
        assert 0 < (expires - datetime.now(expires.tzinfo)).total_seconds() <= body["expires_in"] + 1


class TestSeed004:
    def definition(self, url: str) -> dict:
        """Seed 004's example, verbatim except the URL it fetches."""
        return {
            "version": "1.0",
            "steps": [
                {
                    "id": "step1",
                    "name": "HTTP Request",
                    "type": "http",
                    "config": {"url": url, "method": "GET"},
                    "depends_on": [],
                },
                {
                    "id": "step2",
                    "name": "Process Data",
                    "type": "script",
                    "config": {
                        "language": "python",
                        "code": "# Process data from step1\nresult = input['step1']['body']\noutput = {'processed': result}\n",
                    },
                    "depends_on": ["step1"],
                },
            ],
            "connections": [{"from": "step1", "to": "step2"}],
            "variables": {"api_key": "{{ env.API_KEY }}"},
        }

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the run starts on commit
    def test_the_step_list_script_reads_its_dependencies(self, auth_client, servers, target_server, celery_worker):
        created = auth_client.post(
            f"{BASE}/workflows",
            {"name": "seed 004", "definition": self.definition(target_server.url("/text"))},
            format="json",
        )
        assert created.status_code == 201, created.content
        warnings = {w["field"]: w["message"] for w in created.json()["warnings"]}
        assert "Environment variables are not exposed" in warnings["definition.variables.api_key"]
        assert "input['step1']" in warnings["definition.nodes[2].config.inputs"]
        run = auth_client.post(
            f"{BASE}/workflows/{created.json()['id']}/execute", {"input_data": {}, "mode": "sync"}, format="json"
        )
        assert run.status_code == 200, run.content
        body = run.json()
        assert body["status"] == Execution.Status.COMPLETED, body
        assert body["output_data"] == {"step2": {"processed": "hello, text"}}  # the leaf's output, by its id


class TestSeed003Workflow:
    EXAMPLE = {
        "name": "Customer Follow-up Workflow",
        "description": "Automated customer follow-up process",
        "definition": {
            "nodes": [
                {"id": "start", "type": "start", "data": {"label": "Start Process"}, "position": {"x": 100, "y": 100}},
                {
                    "id": "send_email",
                    "type": "email",
                    "data": {
                        "label": "Send Follow-up Email",
                        "to": "{{customer_email}}",
                        "template": "follow_up_template",
                    },
                    "position": {"x": 300, "y": 100},
                },
            ],
            "edges": [{"id": "e1", "source": "start", "target": "send_email"}],
        },
        "is_active": True,
    }

    def test_the_example_is_told_exactly_what_is_missing(self, auth_client):
        response = auth_client.post(f"{BASE}/workflows", self.EXAMPLE, format="json")
        assert response.status_code == 400
        fields = {d["field"]: d["message"] for d in response.json()["error"]["details"]}
        # The e-mail node needs what the seed's "template" was to supply; {{customer_email}} was understood.
        assert set(fields) == {"definition.nodes[1].config.subject", "definition.nodes[1].config.body"}

    @pytest.mark.django_db(transaction=True, serialized_rollback=True)  # the run starts on commit
    def test_with_subject_and_body_it_runs_on_the_inputs_field(self, auth_client, celery_worker, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        example = copy.deepcopy(self.EXAMPLE)
        example["definition"]["nodes"][1]["data"].update(subject="Following up", body="Hi {{customer_name}}")
        created = auth_client.post(f"{BASE}/workflows", example, format="json")
        assert created.status_code == 201, created.content
        config = created.json()["definition"]["nodes"][1]["config"]
        assert (config["to"], config["body"]) == ("{{input.customer_email}}", "Hi {{input.customer_name}}")
        warned = " ".join(w["message"] for w in created.json()["warnings"])
        assert "'customer_email' became input.customer_email" in warned
        run = auth_client.post(
            f"{BASE}/workflows/{created.json()['id']}/execute",
            {
                "input_data": {
                    "customer_email": "customer@example.com",
                    "customer_name": "Jane Smith",
                    "deal_amount": 25000,
                },
                "execution_mode": "async",
            },
            format="json",
        )
        assert run.status_code == 202, run.content
        assert wait_finished(run.json()["execution_id"]).status == "completed"
        from django.core import mail

        assert [(m.to, m.body) for m in mail.outbox] == [(["customer@example.com"], "Hi Jane Smith")]

    def test_a_typo_in_a_root_gets_a_suggestion(self, auth_client):
        definition = {
            "nodes": [
                {"id": "start", "type": "trigger.manual", "config": {}},
                {"id": "t", "type": "transform", "config": {"value": "{{ inputt.x }}"}},
            ],
            "edges": [{"source": "start", "target": "t"}],
        }
        response = auth_client.post(f"{BASE}/workflows", {"name": "x", "definition": definition}, format="json")
        assert response.status_code == 400
        [detail] = response.json()["error"]["details"]
        assert detail["field"] == "definition.nodes[1].config.value"
        assert "did you mean 'input'?" in detail["message"]
