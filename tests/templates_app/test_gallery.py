"""The built-in gallery: seeding is idempotent, every template makes a valid workflow, and those whose
nodes can run today run in dry-run mode."""

from __future__ import annotations

import uuid
from io import StringIO

import pytest
from django.core.management import call_command

from executions.engine import registry
from executions.models import Execution
from templates_app.gallery import GALLERY
from templates_app.models import Template, TemplateParameter
from templates_app.parameters import ParameterSpec
from templates_app.services import builtin_templates_sync, template_instantiate
from workflows.services import definition_validate

pytestmark = pytest.mark.django_db

CREDENTIAL = str(uuid.uuid4())  # validation checks the reference's shape; integrations check it exists

# Values for the required parameters without a default: what a user must fill in.
REQUIRED_VALUES: dict[str, dict[str, object]] = {
    "lead-follow-up-email": {"sales_email": "sales@example.com"},
    "lead-scoring": {},
    "webhook-slack-alert": {"slack_credential": CREDENTIAL},
    "uptime-check": {"url": "https://status.example.com/health", "alert_email": "ops@example.com"},
    "daily-report-email": {"data_url": "https://api.example.com/rows", "report_recipient": "boss@example.com"},
    "incident-escalation": {
        "slack_credential": CREDENTIAL,
        "oncall_email": "oncall@example.com",
        "escalation_email": "cto@example.com",
    },
    "llm-summarize-notify": {"llm_credential": CREDENTIAL, "notify_email": "team@example.com"},
    "approval-before-sending": {"approver_email": "boss@example.com"},
    "expense-approval": {"approver_email": "finance@example.com"},
    "fan-out-for-each": {},
    "api-sync": {"source_url": "https://crm.example.com/contacts", "destination_url": "https://erp.example.com/import"},
    "data-enrichment": {"enrichment_url": "https://data.example.com/companies"},
    "new-file-processing": {"results_url": "https://files.example.com/plans"},
    "customer-onboarding-drip": {"support_email": "help@example.com"},
}

# Runs of the templates whose node types can all execute today: parameter values, input, output.
DRY_RUNS: dict[str, list[tuple[dict, dict, dict]]] = {
    "lead-scoring": [
        (
            {},
            {"body": {"company_size": 500, "industry": "Software", "budget": 20000}},
            {"score": 90, "tier": "hot", "route": {"next_step": "Call within one business day", "owner": "sales"}},
        ),
        (
            {},
            {"body": {"company_size": 10, "industry": "retail", "budget": 15000, "phone": "+1 555"}},
            {"score": 40, "tier": "warm", "route": {"next_step": "Add to the nurture sequence", "owner": "marketing"}},
        ),
        (
            {"hot_threshold": 95, "warm_action": "Invite to the webinar"},
            {"body": {"company_size": 500, "industry": "software", "budget": 20000}},
            {"score": 90, "tier": "warm", "route": {"next_step": "Invite to the webinar", "owner": "marketing"}},
        ),
        (
            {},
            {"body": {}},
            {"score": 10, "tier": "cold", "route": {"next_step": "Send the monthly newsletter", "owner": "marketing"}},
        ),
    ],
    "expense-approval": [
        (
            {"approver_email": "finance@example.com"},
            {"amount": 42, "description": "Taxi", "requested_by": "ada"},
            {
                "amount": 42,
                "currency": "EUR",
                "decision": {"approved": True, "by": "policy", "comment": "Up to 100 EUR is approved automatically"},
            },
        ),
        (
            {"approver_email": "finance@example.com", "currency": "USD", "auto_approve_limit": 1000},
            {"amount": 5000, "description": "Laptop", "requested_by": "ada"},
            {
                "amount": 5000,
                "currency": "USD",
                "decision": {"approved": True, "by": None, "comment": "Approved automatically in a dry run"},
            },
        ),
    ],
    "fan-out-for-each": [
        (
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
        (
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
}


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
def test_each_template_makes_a_valid_workflow(gallery, user, key):
    made = template_instantiate(template=gallery[key], owner=user, parameter_values=REQUIRED_VALUES[key])
    for workflow in [made.workflow, *(w for _, w in made.companions)]:
        report = definition_validate(definition=workflow.definition, owner=user)
        assert report.errors == [], report.errors
        assert report.warnings == [], report.warnings
        assert "{{ companions." not in str(workflow.definition)
    assert made.warnings == []
    assert len(made.companions) == len(gallery[key].companions)


@pytest.mark.parametrize("key", [t.key for t in GALLERY])
def test_each_template_makes_a_valid_workflow_with_every_parameter_set(gallery, user, key):
    template = gallery[key]
    values = dict(REQUIRED_VALUES[key])
    for parameter in template.parameters.all():
        if parameter.name not in values and parameter.default_value is None:
            spec = ParameterSpec.of(parameter)
            values[parameter.name] = (
                str(uuid.uuid4())
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


def test_every_template_that_can_run_today_has_dry_runs(gallery):
    """When a node type learns to run, its templates need dry runs here (against local peers)."""
    runnable = {key for key, template in gallery.items() if can_run_today(template)}
    assert runnable == set(DRY_RUNS)


@pytest.mark.parametrize(
    ("key", "case"),
    [(key, index) for key, cases in DRY_RUNS.items() for index in range(len(cases))],
)
def test_dry_run(inline_engine, gallery, user, key, case):
    values, input_data, expected = DRY_RUNS[key][case]
    workflow = template_instantiate(template=gallery[key], owner=user, parameter_values=values).workflow
    execution = inline_engine.run(workflow, input_data, mode=Execution.Mode.DRY_RUN)
    assert execution.status == "succeeded", (
        execution.error,
        list(execution.steps.values("node_id", "status", "error")),
    )
    assert execution.output_data == expected
