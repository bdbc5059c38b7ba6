"""The built-in gallery: seeding is idempotent, every template makes a valid workflow, and every template
runs in dry-run mode against local peers (tests/integrations/servers.py).

In a dry run, GET requests go out for real (to the allow-listed ``target_server``); e-mail, Slack, the LLM
and other HTTP methods are simulated, and their outputs say what would have been sent.
"""

from __future__ import annotations

import json
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import StringIO
from typing import Any
from urllib.parse import urlencode

import pytest
from django.conf import settings
from django.core.management import call_command

from executions.engine import registry
from executions.models import Execution
from templates_app.gallery import GALLERY
from templates_app.models import Template, TemplateParameter
from templates_app.parameters import ParameterSpec
from templates_app.services import builtin_templates_sync, template_instantiate
from tests.integrations.servers import BASIC_PASSWORD, BASIC_USER, OPENAI_KEY
from workflows.services import definition_validate

pytestmark = pytest.mark.django_db


@dataclass(frozen=True)
class Cred:
    """A parameter value: the id of a real credential of this type, made for the test user (see ``peers``)."""

    type: str


SLACK, LLM = Cred("slack_webhook"), Cred("openai_compatible")
BASIC, BEARER, API_KEY, OAUTH2 = Cred("http_basic"), Cred("http_bearer"), Cred("api_key"), Cred("oauth2_token")

# The data of each credential type. In strings, {peer} is the allow-listed HTTP server and {openai} the
# OpenAI-compatible one; a dry run must reach neither the Slack look-alike nor the model.
CREDENTIAL_DATA: dict[str, dict[str, Any]] = {
    "slack_webhook": {"url": "{peer}/slack/T0001/B0001/slack-webhook-secret"},
    "openai_compatible": {"base_url": "{openai}/v1", "api_key": OPENAI_KEY},
    "http_basic": {"username": BASIC_USER, "password": BASIC_PASSWORD},
    "http_bearer": {"token": "bearer-token-0123456789"},
    "api_key": {"name": "X-Api-Key", "value": "key-0123456789abcdef"},
    "oauth2_token": {"access_token": "oauth2-access-token-0123456789"},
}

# The credential each optional ``*_credential`` parameter gets when every parameter is set: a type its
# node accepts (http_request takes basic, bearer, API key and OAuth2 tokens).
OPTIONAL_CREDENTIALS: dict[str, Cred] = {
    "api_credential": BEARER,
    "source_credential": BASIC,
    "destination_credential": API_KEY,
    "results_credential": OAUTH2,
}

# Values for the required parameters without a default: what a user must fill in.
REQUIRED_VALUES: dict[str, dict[str, object]] = {
    "lead-follow-up-email": {"sales_email": "sales@example.com"},
    "lead-scoring": {},
    "webhook-slack-alert": {"slack_credential": SLACK},
    "uptime-check": {"url": "https://status.example.com/health", "alert_email": "ops@example.com"},
    "daily-report-email": {"data_url": "https://api.example.com/rows", "report_recipient": "boss@example.com"},
    "incident-escalation": {
        "slack_credential": SLACK,
        "oncall_email": "oncall@example.com",
        "escalation_email": "cto@example.com",
    },
    "llm-summarize-notify": {"llm_credential": LLM, "notify_email": "team@example.com"},
    "approval-before-sending": {"approver_email": "boss@example.com"},
    "expense-approval": {"approver_email": "finance@example.com"},
    "fan-out-for-each": {},
    "api-sync": {"source_url": "https://crm.example.com/contacts", "destination_url": "https://erp.example.com/import"},
    "data-enrichment": {"enrichment_url": "https://data.example.com/companies"},
    "new-file-processing": {"results_url": "https://files.example.com/plans"},
    "customer-onboarding-drip": {"support_email": "help@example.com"},
}


# --- what simulated nodes answer in a dry run ----------------------------------------------------------


def mail(to: str, subject: str, body: str, *, cc: str | None = None, reply_to: str | None = None) -> dict:
    """An ``email`` step's dry-run output: sent through the server's mail settings (no template names an SMTP
    credential)."""
    would_send = {
        "from": settings.DEFAULT_FROM_EMAIL,
        "to": [to],
        "cc": [cc] if cc else [],
        "bcc": [],
        "reply_to": [reply_to] if reply_to else [],
        "subject": subject,
        "body": body,
        "html": None,
        "via": "server mail settings",
    }
    return {"simulated": True, "would_send": would_send}


def slack(text: str) -> dict:
    return {"simulated": True, "would_send": {"text": text}}


def http(method: str, url: str, body: Any, headers: dict[str, str]) -> dict:
    """A non-GET ``http_request`` step's dry-run output; the credential's header shows as redacted."""
    answer = {"status": 200, "headers": {}, "body": {}, "url": url}  # an empty 200, as the real answer's keys
    return {**answer, "simulated": True, "would_send": {"method": method, "url": url, "headers": headers, "body": body}}


# What an ``llm`` step answers in a dry run besides what it would send: the real answer's keys.
DRY_RUN_ANSWER = {
    "text": "(no answer: a dry run does not call the model)",
    "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    "cost": 0.0,
    "model": "gpt-4o-mini",
    "finish_reason": "stop",
}


def waited(seconds: float) -> dict:
    return {"waited_seconds": 0, "simulated": True, "would_wait_seconds": seconds}


APPROVED_IN_DRY_RUN = {
    "approved": True,
    "by": None,
    "comment": "Approved automatically in a dry run",
    "simulated": True,
}


@dataclass(frozen=True)
class DryRun:
    """One dry run of a template.

    In strings, ``{peer}`` is the allow-listed HTTP server, ``{refusing}`` an address that refuses
    connections, ``{openai}`` the OpenAI-compatible server; ``{execution_id}``, ``{started_at}`` and
    ``{today}`` are the run's.
    """

    values: dict[str, Any]  # the template's parameter values
    input: Any  # the run's input
    output: Any  # the execution's output_data
    steps: dict[str, str] = field(default_factory=dict)  # the steps that did not succeed, and their status
    step_outputs: dict[str, Any] = field(default_factory=dict)  # outputs of steps that are not in ``output``
    documents: dict[str, Any] = field(default_factory=dict)  # what the peer serves at /documents/<name>
    requests: tuple[str, ...] = ()  # what the peer received: "GET /path?query" and the Authorization header


LEAD = {"name": "Ada", "email": "ada@example.org", "company": "Analytical Engines", "message": "Can we talk?"}
INCIDENT = {"title": "DB down", "service": "billing", "description": "Primary is unreachable."}
DOCUMENT = "Revenue grew by 12%. Costs stayed flat. We hired four engineers."
CONTACTS = [{"id": 1, "name": "Ada"}, {"id": 2, "name": "Grace"}]
CSV_FILE = {"name": "q3.csv", "content_type": "text/csv", "size": 2048, "url": "https://files.example.com/q3.csv"}
PNG_FILE = {"name": "logo.png", "content_type": "image/png", "size": 4096, "url": "https://files.example.com/logo.png"}
SUMMARY = "You summarise documents faithfully and concisely. You never add facts."

DRY_RUNS: dict[str, list[DryRun]] = {
    "lead-follow-up-email": [
        DryRun(
            {"sales_email": "sales@example.com"},
            {"body": LEAD},
            {
                "notify_sales": mail(
                    "sales@example.com",
                    "New lead: Ada",
                    "A new lead came in through the Acme Inc. web form:\n\nName: Ada\nE-mail: ada@example.org\n"
                    "Company: Analytical Engines\n\nCan we talk?",
                ),
                "follow_up": mail(
                    "ada@example.org",
                    "Thanks for getting in touch",
                    "Hi Ada,\n\nThank you for your interest in Acme Inc., and for your message. We would love to "
                    "learn more about what you need. When would suit you for a short call?\n\n"
                    "Best regards,\nThe Acme sales team",
                    reply_to="sales@example.com",
                ),
            },
            steps={"no_email": "skipped"},
            step_outputs={"wait": waited(1800)},
        ),
        DryRun(
            {
                "sales_email": "leads@example.com",
                "company_name": "Initech",
                "sender_name": "Bill",
                "subject": "Hello from Initech",
                "follow_up_delay_minutes": 5,
            },
            {"body": {"name": "Bob", "email": "bob@example.org"}},
            {
                "notify_sales": mail(
                    "leads@example.com",
                    "New lead: Bob",
                    "A new lead came in through the Initech web form:\n\nName: Bob\nE-mail: bob@example.org\n"
                    "Company: -\n\n",
                ),
                "follow_up": mail(
                    "bob@example.org",
                    "Hello from Initech",
                    "Hi Bob,\n\nThank you for your interest in Initech, and for your message. We would love to "
                    "learn more about what you need. When would suit you for a short call?\n\nBest regards,\nBill",
                    reply_to="leads@example.com",
                ),
            },
            steps={"no_email": "skipped"},
            step_outputs={"wait": waited(300)},
        ),
        DryRun(
            {"sales_email": "sales@example.com"},
            {"body": {"name": "Anonymous", "message": "Call me"}},
            {
                "notify_sales": mail(
                    "sales@example.com",
                    "New lead: Anonymous",
                    "A new lead came in through the Acme Inc. web form:\n\nName: Anonymous\nE-mail: -\n"
                    "Company: -\n\nCall me",
                ),
                "no_email": {"followed_up": False, "reason": "no e-mail address"},
            },
            steps={"wait": "skipped", "follow_up": "skipped"},
        ),
    ],
    "lead-scoring": [
        DryRun(
            {},
            {"body": {"company_size": 500, "industry": "Software", "budget": 20000}},
            {"score": 90, "tier": "hot", "route": {"next_step": "Call within one business day", "owner": "sales"}},
            steps={"warm": "skipped", "cold": "skipped"},
        ),
        DryRun(
            {},
            {"body": {"company_size": 10, "industry": "retail", "budget": 15000, "phone": "+1 555"}},
            {"score": 40, "tier": "warm", "route": {"next_step": "Add to the nurture sequence", "owner": "marketing"}},
            steps={"hot": "skipped", "cold": "skipped"},
        ),
        DryRun(
            {"hot_threshold": 95, "warm_action": "Invite to the webinar"},
            {"body": {"company_size": 500, "industry": "software", "budget": 20000}},
            {"score": 90, "tier": "warm", "route": {"next_step": "Invite to the webinar", "owner": "marketing"}},
            steps={"hot": "skipped", "cold": "skipped"},
        ),
        DryRun(
            {},
            {"body": {}},
            {"score": 10, "tier": "cold", "route": {"next_step": "Send the monthly newsletter", "owner": "marketing"}},
            steps={"hot": "skipped", "warm": "skipped"},
        ),
    ],
    "webhook-slack-alert": [
        DryRun(
            {"slack_credential": SLACK},
            {"body": {"severity": "critical", "message": "Disk full", "host": "db1"}},
            {
                "notify": slack(
                    ":rotating_light: Alert [CRITICAL] Disk full\n```"
                    + json.dumps({"host": "db1", "message": "Disk full", "severity": "critical"}, indent=2)
                    + "```"
                )
            },
            steps={"ignored": "skipped"},
        ),
        DryRun(
            {"slack_credential": SLACK, "alert_title": "CI", "severities": ["warning"], "include_payload": False},
            {"body": {"severity": "Warning", "message": "Flaky test"}},
            {"notify": slack("CI [WARNING] Flaky test")},
            steps={"ignored": "skipped"},
        ),
        DryRun(
            {"slack_credential": SLACK},
            {"body": {"severity": "info", "message": "Deployed"}},
            {"ignored": {"alerted": False, "severity": "info"}},
            steps={"notify": "skipped"},
        ),
    ],
    "uptime-check": [
        DryRun(
            {"url": "{peer}/text", "alert_email": "ops@example.com"},
            {},
            {"up": {"up": True, "status": 200}},
            steps={"alert_status": "skipped", "alert_unreachable": "skipped"},
            requests=("GET /text",),
        ),
        DryRun(
            {"url": "{peer}/status/503", "alert_email": "ops@example.com", "timeout_seconds": 5},
            {},
            {
                "alert_status": mail(
                    "ops@example.com",
                    "DOWN: {peer}/status/503 answered 503",
                    "The uptime check of {peer}/status/503 at {started_at} got status 503; 200 was expected.\n\n"
                    'First bytes of the answer:\n{"error": "as asked", "status": 503}',
                )
            },
            steps={"up": "skipped", "alert_unreachable": "skipped"},
            requests=("GET /status/503",),
        ),
        DryRun(
            {"url": "{peer}/status/503", "alert_email": "ops@example.com", "expected_status": 503},
            {},
            {"up": {"up": True, "status": 503}},
            steps={"alert_status": "skipped", "alert_unreachable": "skipped"},
            requests=("GET /status/503",),
        ),
        DryRun(  # both attempts are refused: the error port e-mails
            {"url": "{refusing}/health", "alert_email": "ops@example.com"},
            {},
            {
                "alert_unreachable": mail(
                    "ops@example.com",
                    "DOWN: {refusing}/health is unreachable",
                    "The uptime check of {refusing}/health at {started_at} got no answer:\n"
                    "GET {refusing}/health failed: [Errno 111] Connection refused",
                )
            },
            steps={"check": "failed", "status_ok": "skipped", "up": "skipped", "alert_status": "skipped"},
        ),
    ],
    "daily-report-email": [
        DryRun(
            {
                "data_url": "{peer}/documents/rows",
                "report_recipient": "boss@example.com",
                "report_title": "Sign-ups",
                "max_rows": 2,
                "api_credential": BEARER,
            },
            {},
            {
                "send": mail(
                    "boss@example.com",
                    "Sign-ups ({today})",
                    'Sign-ups\n\n3 rows today. The first ones:\n\n- {"id": 1, "name": "Ada"}\n'
                    '- {"id": 2, "name": "Grace"}\n',
                )
            },
            documents={"rows": [*CONTACTS, {"id": 3, "name": "Edsger"}]},
            requests=("GET /documents/rows (Authorization: Bearer bearer-token-0123456789)",),
        ),
        DryRun(
            {"data_url": "{peer}/documents/rows", "report_recipient": "boss@example.com"},
            {},
            {
                "send": mail(
                    "boss@example.com", "Daily report ({today})", "Daily report\n\n0 rows today. The first ones:\n\n"
                )
            },
            documents={"rows": []},
            requests=("GET /documents/rows",),
        ),
    ],
    "incident-escalation": [
        DryRun(
            {"slack_credential": SLACK, "oncall_email": "oncall@example.com", "escalation_email": "cto@example.com"},
            {"body": {**INCIDENT, "severity": "CRITICAL"}},
            {"acknowledged": {"escalated": False, "by": None}},
            steps={"escalate": "skipped", "notify_high": "skipped", "log_low": "skipped"},
            step_outputs={
                "page": slack(
                    ":rotating_light: *DB down* (critical) on billing\nPrimary is unreachable.\n"
                    "Runbook: https://example.com/runbooks"
                ),
                "acknowledge": APPROVED_IN_DRY_RUN,
            },
        ),
        DryRun(
            {
                "slack_credential": SLACK,
                "oncall_email": "oncall@example.com",
                "escalation_email": "cto@example.com",
                "runbook_url": "https://wiki.example.com/runbooks/billing",
            },
            {"body": {**INCIDENT, "severity": "high"}},
            {
                "notify_high": mail(
                    "oncall@example.com",
                    "High: DB down",
                    "billing: Primary is unreachable.\n\nRunbook: https://wiki.example.com/runbooks/billing",
                )
            },
            steps={
                "page": "skipped",
                "acknowledge": "skipped",
                "acknowledged": "skipped",
                "escalate": "skipped",
                "log_low": "skipped",
            },
        ),
        DryRun(
            {"slack_credential": SLACK, "oncall_email": "oncall@example.com", "escalation_email": "cto@example.com"},
            {"body": {"title": "Slow page", "severity": "minor"}},
            {"log_low": {"logged": True, "severity": "minor"}},
            steps={
                "page": "skipped",
                "acknowledge": "skipped",
                "acknowledged": "skipped",
                "escalate": "skipped",
                "notify_high": "skipped",
            },
        ),
    ],
    "llm-summarize-notify": [
        DryRun(
            {"llm_credential": LLM, "notify_email": "team@example.com"},
            {"body": {"title": "Q3 report", "text": DOCUMENT}},
            {
                "notify": mail(
                    "team@example.com",
                    "Summary: Q3 report",
                    "(no answer: a dry run does not call the model)\n\n(Summarised by gpt-4o-mini.)",
                )
            },
            steps={"empty": "skipped"},
            step_outputs={
                "summarize": {
                    **DRY_RUN_ANSWER,
                    "simulated": True,
                    "would_send": {
                        "url": "{openai}/v1/chat/completions",
                        "model": "gpt-4o-mini",
                        "messages": [
                            {"role": "system", "content": SUMMARY},
                            {
                                "role": "user",
                                "content": "Summarise the following text in at most 3 sentences, in English.\n\n"
                                f"Title: Q3 report\n\n{DOCUMENT}",
                            },
                        ],
                        "temperature": 0.2,
                        "max_tokens": 600,
                    },
                }
            },
        ),
        DryRun(
            {
                "llm_credential": LLM,
                "notify_email": "team@example.com",
                "model": "llama3",
                "max_sentences": 1,
                "language": "French",
                "temperature": 0,
            },
            {"body": {"text": DOCUMENT}},
            {
                "notify": mail(
                    "team@example.com",
                    "Summary: new document",
                    "(no answer: a dry run does not call the model)\n\n(Summarised by llama3.)",
                )
            },
            steps={"empty": "skipped"},
            step_outputs={
                "summarize": {
                    **DRY_RUN_ANSWER,
                    "model": "llama3",
                    "simulated": True,
                    "would_send": {
                        "url": "{openai}/v1/chat/completions",
                        "model": "llama3",
                        "messages": [
                            {"role": "system", "content": SUMMARY},
                            {
                                "role": "user",
                                "content": "Summarise the following text in at most 1 sentences, in French.\n\n"
                                f"Title: (untitled)\n\n{DOCUMENT}",
                            },
                        ],
                        "temperature": 0,
                        "max_tokens": 600,
                    },
                }
            },
        ),
        DryRun(
            {"llm_credential": LLM, "notify_email": "team@example.com"},
            {"body": {"title": "Blank", "text": "   "}},
            {"empty": {"summarized": False, "reason": "no text"}},
            steps={"summarize": "skipped", "notify": "skipped"},
        ),
    ],
    "approval-before-sending": [
        DryRun(
            {"approver_email": "boss@example.com", "cc_email": "archive@example.com"},
            {"to": "client@example.org", "subject": "Offer", "body": "Here is our offer."},
            {"sent": True, "approved_by": None},
            steps={"not_sent": "skipped"},
            step_outputs={
                "approve": APPROVED_IN_DRY_RUN,
                "send": mail("client@example.org", "Offer", "Here is our offer.", cc="archive@example.com"),
            },
        ),
        DryRun(
            {"approver_email": "boss@example.com"},
            {"to": "client@example.org", "subject": "Invoice", "body": "Please find the invoice."},
            {"sent": True, "approved_by": None},
            steps={"not_sent": "skipped"},
            step_outputs={"send": mail("client@example.org", "Invoice", "Please find the invoice.")},
        ),
    ],
    "expense-approval": [
        DryRun(
            {"approver_email": "finance@example.com"},
            {"amount": 42, "description": "Taxi", "requested_by": "ada"},
            {
                "amount": 42,
                "currency": "EUR",
                "decision": {"approved": True, "by": "policy", "comment": "Up to 100 EUR is approved automatically"},
            },
            steps={"review": "skipped", "approved": "skipped", "rejected": "skipped"},
        ),
        DryRun(
            {"approver_email": "finance@example.com", "currency": "USD", "auto_approve_limit": 1000},
            {"amount": 5000, "description": "Laptop", "requested_by": "ada"},
            {
                "amount": 5000,
                "currency": "USD",
                "decision": {"approved": True, "by": None, "comment": "Approved automatically in a dry run"},
            },
            steps={"by_policy": "skipped", "rejected": "skipped"},
            step_outputs={"review": APPROVED_IN_DRY_RUN},
        ),
    ],
    "fan-out-for-each": [
        DryRun(
            {"parallelism": 2},
            {"items": [{"email": "a@example.com"}, {"name": "b"}, "text"]},
            {
                "total": 3,
                "valid": 1,
                "invalid": 2,
                "results": [
                    {"index": 0, "valid": True, "item": {"email": "a@example.com", "tag": "processed"}},
                    {"index": 1, "valid": False, "error": "missing 'email'"},
                    {"index": 2, "valid": False, "error": "missing 'email'"},
                ],
            },
        ),
        DryRun(
            {"required_field": "name", "tag": "seen"},
            {"items": [{"name": "b"}]},
            {
                "total": 1,
                "valid": 1,
                "invalid": 0,
                "results": [{"index": 0, "valid": True, "item": {"name": "b", "tag": "seen"}}],
            },
        ),
    ],
    "api-sync": [
        DryRun(
            {
                "source_url": "{peer}/documents/contacts",
                "destination_url": "{peer}/import",
                "write_method": "PUT",
                "source_credential": BASIC,
                "destination_credential": API_KEY,
            },
            {},
            {"synced": 2, "status": 200},  # the simulated write answers an empty 200
            step_outputs={
                "write": http(
                    "PUT",
                    "{peer}/import",
                    {"records": CONTACTS, "count": 2, "synced_at": "{started_at}"},
                    {"Idempotency-Key": "{execution_id}", "X-Api-Key": "[redacted]"},
                )
            },
            steps={"nothing": "skipped"},
            documents={"contacts": CONTACTS},
            requests=("GET /documents/contacts (Authorization: Basic YWxpY2U6YmFzaWMtcGFzc3dvcmQtMDEyMzQ1Njc4OQ==)",),
        ),
        DryRun(
            {"source_url": "{peer}/documents/contacts", "destination_url": "{peer}/import"},
            {},
            {"synced": 0},
            steps={"write": "skipped", "synced": "skipped"},
            documents={"contacts": []},
            requests=("GET /documents/contacts",),
        ),
    ],
    "data-enrichment": [
        DryRun(
            {"enrichment_url": "{peer}/documents/companies"},
            {"email": "Ada@Acme.com", "name": "Ada"},
            {
                "record": {"email": "Ada@Acme.com", "name": "Ada"},
                "enriched": True,
                "company": {"name": "Acme", "employees": 120},
            },
            steps={"unchanged": "skipped"},
            documents={"companies": {"name": "Acme", "employees": 120}},
            requests=("GET /documents/companies?domain=acme.com",),
        ),
        DryRun(  # the API does not know the domain: the record is passed on as is
            {"enrichment_url": "{peer}/documents/companies", "lookup_field": "work_email", "api_credential": OAUTH2},
            {"work_email": "grace@navy.example"},
            {"record": {"work_email": "grace@navy.example"}, "enriched": False, "company": None},
            steps={"unchanged": "skipped"},
            requests=(
                "GET /documents/companies?domain=navy.example (Authorization: Bearer oauth2-access-token-0123456789)",
            ),
        ),
        DryRun(
            {"enrichment_url": "{peer}/documents/companies"},
            {"name": "No e-mail"},
            {"record": {"name": "No e-mail"}, "enriched": False},
            steps={"lookup": "skipped", "enriched": "skipped"},
        ),
    ],
    "new-file-processing": [
        DryRun(
            {"results_url": "{peer}/plans", "results_credential": OAUTH2},
            {"file": CSV_FILE},
            {"accepted": True, "plan": {"kind": "table", "steps": ["parse_csv", "validate_rows", "import"]}},
            steps={
                "data": "skipped",
                "document": "skipped",
                "image": "skipped",
                "other": "skipped",
                "refused": "skipped",
            },
            step_outputs={
                "deliver": http(
                    "POST",
                    "{peer}/plans",
                    {
                        "file": CSV_FILE,
                        "plan": {"kind": "table", "steps": ["parse_csv", "validate_rows", "import"]},
                        "execution_id": "{execution_id}",
                    },
                    {"Authorization": "[redacted]"},
                )
            },
        ),
        DryRun(
            {"results_url": "{peer}/plans"},
            {"file": PNG_FILE},
            {"accepted": True, "plan": {"kind": "image", "steps": ["thumbnail", "describe"]}},
            steps={
                "table": "skipped",
                "data": "skipped",
                "document": "skipped",
                "other": "skipped",
                "refused": "skipped",
            },
            step_outputs={
                "deliver": http(
                    "POST",
                    "{peer}/plans",
                    {
                        "file": PNG_FILE,
                        "plan": {"kind": "image", "steps": ["thumbnail", "describe"]},
                        "execution_id": "{execution_id}",
                    },
                    {},
                )
            },
        ),
        DryRun(
            {"results_url": "{peer}/plans", "max_size_mb": 1, "allowed_types": ["text/csv"]},
            {"file": {**CSV_FILE, "size": 2 * 1048576}},
            {"accepted": False, "reason": "larger than 1 MB, or not one of the allowed types"},
            steps=dict.fromkeys(
                ("kind", "table", "data", "document", "image", "other", "plan", "deliver", "accepted"), "skipped"
            ),
        ),
    ],
    "customer-onboarding-drip": [
        DryRun(
            {
                "support_email": "help@example.com",
                "product_name": "Flowbuilder",
                "sender_name": "Fran",
                "docs_url": "https://docs.example.com",
                "tips_delay_days": 1,
                "checkin_delay_days": 3,
            },
            {"body": {"email": "grace@example.org", "first_name": "Grace"}},
            {"onboarded": "grace@example.org"},
            steps={"skipped": "skipped"},
            step_outputs={
                "welcome": mail(
                    "grace@example.org",
                    "Welcome to Flowbuilder, Grace!",
                    "Hi Grace,\n\nWelcome to Flowbuilder! Everything you need to get started is in the "
                    "documentation: https://docs.example.com\n\nQuestions? Just reply, or write to "
                    "help@example.com.\n\nFran",
                    reply_to="help@example.com",
                ),
                "wait_tips": waited(86400),
                "tips": mail(
                    "grace@example.org",
                    "Three tips to get the most out of Flowbuilder",
                    "Hi Grace,\n\n1. Start from a template: the gallery has the common cases.\n"
                    "2. Invite your team, so nobody waits for you.\n3. Read the guides: https://docs.example.com\n\n"
                    "Fran",
                    reply_to="help@example.com",
                ),
                "wait_checkin": waited(3 * 86400),
                "checkin": mail(
                    "grace@example.org",
                    "How is it going with Flowbuilder?",
                    "Hi Grace,\n\nYou have been using Flowbuilder for a week now. Is anything in your way? "
                    "Reply to this e-mail and a real person will answer.\n\nFran",
                    reply_to="help@example.com",
                ),
            },
        ),
        DryRun(
            {"support_email": "help@example.com"},
            {"body": {"first_name": "Nobody"}},
            {"onboarded": None, "reason": "no e-mail address"},
            steps=dict.fromkeys(("welcome", "wait_tips", "tips", "wait_checkin", "checkin", "onboarded"), "skipped"),
        ),
    ],
}


def filled(value: Any, names: dict[str, str], credential: Callable[[str], str]) -> Any:
    """``value`` with each ``{name}`` in its strings replaced and each :class:`Cred` made."""
    if isinstance(value, Cred):
        return credential(value.type)
    if isinstance(value, str):
        for name, text in names.items():
            value = value.replace("{" + name + "}", text)
        return value
    if isinstance(value, dict):
        return {key: filled(item, names, credential) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [filled(item, names, credential) for item in value]
    return value


@pytest.fixture(scope="session")
def refusing_address() -> Iterator[str]:
    """A loopback port that is bound but not listening: connections to it are refused at once."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"


@dataclass
class Peers:
    names: dict[str, str]
    credential: Callable[[str], str]

    def fill(self, value: Any, **names: str) -> Any:
        return filled(value, {**self.names, **names}, self.credential)


@pytest.fixture
def peers(servers, target_server, openai_server, refusing_address, make_credential) -> Peers:
    """The local peers (``servers`` allow-lists 127.0.0.1 and checks nothing internal was reached), and one
    credential of each type for the test user, made when first named."""
    names = {"peer": target_server.base_url, "openai": openai_server.base_url, "refusing": refusing_address}
    made: dict[str, str] = {}

    def credential(kind: str) -> str:
        if kind not in made:
            made[kind] = str(make_credential(kind, filled(CREDENTIAL_DATA[kind], names, credential)).pk)
        return made[kind]

    return Peers(names, credential)


def request_line(hit: dict[str, Any]) -> str:
    line = f"{hit['method']} {hit['path']}" + (f"?{urlencode(hit['query'])}" if hit["query"] else "")
    authorization = hit["headers"].get("authorization")
    return f"{line} (Authorization: {authorization})" if authorization else line


def node_types(template) -> set[str]:
    definitions = [template.definition, *(c["definition"] for c in template.companions)]
    return {n["type"] for d in definitions for n in d["nodes"]}


def can_run_today(template) -> bool:
    return all(registry.get(t).execute is not None for t in node_types(template))


@pytest.fixture
def gallery(db):
    builtin_templates_sync(gallery=GALLERY)
    return {t.key: t for t in Template.objects.filter(is_builtin=True)}


def test_the_gallery_is_broad_and_documented():
    assert len(GALLERY) >= 12
    assert len({t.key for t in GALLERY}) == len(GALLERY)
    assert len({t.category for t in GALLERY}) >= 8
    assert set(REQUIRED_VALUES) == {t.key for t in GALLERY}
    for template in GALLERY:
        assert template.description, template.key
        assert template.parameters, template.key
        assert all(p.description for p in template.parameters), template.key
        assert any(p.default_value is not None for p in template.parameters), template.key
        required = {p.name for p in template.parameters if p.is_required and p.default_value is None}
        assert required == set(REQUIRED_VALUES[template.key]), template.key


def test_seeding_is_idempotent_and_keeps_what_staff_chose():
    out = StringIO()
    call_command("seed_templates", stdout=out)
    assert out.getvalue().strip() == f"Templates: {len(GALLERY)} created, 0 updated, 0 unchanged"
    assert Template.objects.filter(is_builtin=True, owner=None).count() == len(GALLERY)

    changed = Template.objects.get(key="uptime-check")
    changed_id = changed.pk
    Template.objects.filter(pk=changed_id).update(
        name="Edited", is_active=False, usage_count=7, definition={"nodes": []}
    )
    TemplateParameter.objects.filter(template_id=changed_id, name="url").delete()

    out = StringIO()
    call_command("seed_templates", "-v", "2", stdout=out)
    assert out.getvalue().splitlines() == [
        f"Templates: 0 created, 1 updated, {len(GALLERY) - 1} unchanged",
        "  updated: uptime-check",
    ]
    assert Template.objects.filter(is_builtin=True).count() == len(GALLERY)
    restored = Template.objects.get(key="uptime-check")
    assert restored.pk == changed_id
    assert restored.name == "Scheduled uptime check with alert"
    assert restored.parameters.filter(name="url").exists()
    assert (restored.is_active, restored.usage_count) == (False, 7)
    assert restored.definition["nodes"]


@pytest.mark.parametrize("key", [t.key for t in GALLERY])
def test_each_template_makes_a_valid_workflow(gallery, user, peers, key):
    values = peers.fill(REQUIRED_VALUES[key])
    made = template_instantiate(template=gallery[key], owner=user, parameter_values=values)
    for workflow in [made.workflow, *(w for _, w in made.companions)]:
        report = definition_validate(definition=workflow.definition, owner=user)
        assert report.errors == [], report.errors
        assert report.warnings == [], report.warnings
        assert "{{ companions." not in str(workflow.definition)
    assert made.warnings == []
    assert len(made.companions) == len(gallery[key].companions)


@pytest.mark.parametrize("key", [t.key for t in GALLERY])
def test_each_template_makes_a_valid_workflow_with_every_parameter_set(gallery, user, peers, key):
    template = gallery[key]
    values = peers.fill(REQUIRED_VALUES[key])
    for parameter in template.parameters.all():
        if parameter.name not in values and parameter.default_value is None:
            spec = ParameterSpec.of(parameter)
            values[parameter.name] = (
                peers.fill(OPTIONAL_CREDENTIALS.get(parameter.name))
                if parameter.name.endswith("_credential")
                else {"email": "cc@example.com"}.get(spec.parameter_type)
            )
            assert values[parameter.name] is not None, f"no test value for {key}.{parameter.name}"
    made = template_instantiate(template=template, owner=user, parameter_values=values)
    assert definition_validate(definition=made.workflow.definition, owner=user).valid
    text = str(made.workflow.definition)
    for name, value in values.items():
        if name.endswith("_credential"):
            assert value in text


def test_every_template_has_dry_runs(gallery):
    """Every template's node types can run, and each template has dry runs here (against local peers)."""
    assert {key for key, template in gallery.items() if can_run_today(template)} == set(gallery)
    assert set(DRY_RUNS) == set(gallery)
    assert all(DRY_RUNS.values())


@pytest.mark.parametrize(
    ("key", "case"),
    [(key, index) for key, cases in DRY_RUNS.items() for index in range(len(cases))],
)
def test_dry_run(inline_engine, gallery, user, peers, target_server, openai_server, mailoutbox, key, case):
    run = DRY_RUNS[key][case]
    target_server.state["documents"] = run.documents
    values = peers.fill(run.values)
    workflow = template_instantiate(template=gallery[key], owner=user, parameter_values=values).workflow

    execution = inline_engine.run(workflow, peers.fill(run.input), mode=Execution.Mode.DRY_RUN)
    inline_engine.run_deferred()  # retries come due at once
    execution.refresh_from_db()

    assert execution.status == "completed", (
        execution.error,
        list(execution.steps.values("node_id", "status", "error")),
    )
    started_at = execution.started_at.isoformat()
    of_run = {"execution_id": str(execution.pk), "started_at": started_at, "today": started_at[:10]}
    statuses = dict(execution.steps.values_list("node_id", "status"))
    assert statuses == {node_id: run.steps.get(node_id, "completed") for node_id in statuses}
    assert execution.output_data == peers.fill(run.output, **of_run)
    outputs = dict(execution.steps.filter(node_id__in=run.step_outputs).values_list("node_id", "output"))
    assert outputs == peers.fill(run.step_outputs, **of_run)
    # GET requests went out for real; nothing else did (no Slack post, no model call, no e-mail).
    assert [request_line(hit) for hit in target_server.hits] == list(run.requests)
    assert openai_server.hits == []
    assert mailoutbox == []
