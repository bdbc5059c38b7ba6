"""Operations: alerts, uptime checks, scheduled reports, incident escalation."""

from __future__ import annotations

from templates_app.gallery._build import HTTP_RETRY, definition, edge, node, param
from templates_app.services import BuiltinTemplate

WEBHOOK_SLACK_ALERT = BuiltinTemplate(
    key="webhook-slack-alert",
    name="Webhook → Slack alert",
    category="notifications",
    description=(
        "Any system that can call a URL (monitoring, CI, a form) posts an event {severity, message, …} "
        "to the workflow's webhook; events of the severities you choose are posted to a Slack channel."
    ),
    parameters=(
        param(
            "slack_credential", "string", "Id of the Slack incoming-webhook credential of the channel.", required=True
        ),
        param("alert_title", "string", "Start of each message.", default=":rotating_light: Alert"),
        param(
            "severities",
            "json",
            "Severities that are posted (lower-case); the others are ignored.",
            default=["error", "critical"],
        ),
        param("include_payload", "boolean", "Attach the whole event as JSON.", default=True),
    ),
    definition=definition(
        [
            node("event", "trigger.webhook", "Event", {"method": "POST", "respond": "immediately"}),
            node(
                "important",
                "condition",
                "Severe enough?",
                {"expression": "{{ (input.body.severity | default('error') | string | lower) in vars.severities }}"},
            ),
            node(
                "notify",
                "slack",
                "Post to Slack",
                {
                    "credential": "{{ slack_credential }}",
                    "text": (
                        "{{ alert_title }} [{{ input.body.severity | default('error') | upper }}] "
                        "{{ input.body.message | default('(no message)') }}"
                        "{% if vars.include_payload %}\n```{{ input.body | tojson(indent=2) }}```{% endif %}"
                    ),
                },
                retry={"max_attempts": 3, "backoff_seconds": 10},
            ),
            node(
                "ignored",
                "transform",
                "Ignored",
                {"value": {"alerted": False, "severity": "{{ input.body.severity | default(none) }}"}},
            ),
        ],
        [edge("event", "important"), edge("important", "notify", "true"), edge("important", "ignored", "false")],
        variables={"severities": "{{ severities }}", "include_payload": "{{ include_payload }}"},
    ),
)


UPTIME_CHECK = BuiltinTemplate(
    key="uptime-check",
    name="Scheduled uptime check with alert",
    category="monitoring",
    description=("Calls a URL on a schedule and e-mails you when it answers with an unexpected status or not at all."),
    parameters=(
        param("url", "url", "The page or health endpoint to check.", required=True),
        param("alert_email", "email", "Who is alerted when the check fails.", required=True),
        param("schedule", "string", "When to check, as cron (minute hour day month weekday).", default="*/5 * * * *"),
        param("timezone", "string", "Time zone of the schedule.", default="UTC"),
        param("expected_status", "number", "The HTTP status that means up.", default=200),
        param("timeout_seconds", "number", "How long to wait for an answer (1 to 300).", default=10),
    ),
    definition=definition(
        [
            node(
                "every",
                "trigger.schedule",
                "On schedule",
                {"cron": "{{ schedule }}", "timezone": "{{ timezone }}", "overlap": "skip"},
            ),
            node(
                "check",
                "http_request",
                "Call the URL",
                {
                    "method": "GET",
                    "url": "{{ url }}",
                    "timeout_seconds": "{{ timeout_seconds }}",
                    "fail_on_status": False,
                    "response_type": "text",
                },
                retry={"max_attempts": 2, "backoff_seconds": 5},
                on_error="error_port",
            ),
            node(
                "status_ok",
                "condition",
                "Expected status?",
                {"expression": "{{ steps.check.output.status == vars.expected_status }}"},
            ),
            node("up", "transform", "Up", {"value": {"up": True, "status": "{{ steps.check.output.status }}"}}),
            node(
                "alert_status",
                "email",
                "Alert: wrong status",
                {
                    "to": "{{ alert_email }}",
                    "subject": "DOWN: {{ url }} answered {{ steps.check.output.status }}",
                    "body": (
                        "The uptime check of {{ url }} at {{ execution.started_at }} got status "
                        "{{ steps.check.output.status }}; {{ expected_status }} was expected.\n\n"
                        "First bytes of the answer:\n{{ (steps.check.output.body | string)[:500] }}"
                    ),
                },
            ),
            node(
                "alert_unreachable",
                "email",
                "Alert: unreachable",
                {
                    "to": "{{ alert_email }}",
                    "subject": "DOWN: {{ url }} is unreachable",
                    "body": (
                        "The uptime check of {{ url }} at {{ execution.started_at }} got no answer:\n"
                        "{{ steps.check.error.message | default(steps.check.error) }}"
                    ),
                },
            ),
        ],
        [
            edge("every", "check"),
            edge("check", "status_ok"),
            edge("check", "alert_unreachable", "error"),
            edge("status_ok", "up", "true"),
            edge("status_ok", "alert_status", "false"),
        ],
        variables={"expected_status": "{{ expected_status }}"},
    ),
)


DAILY_REPORT = BuiltinTemplate(
    key="daily-report-email",
    name="Daily report by e-mail",
    category="reporting",
    description=(
        "Every working morning, fetches rows from a JSON endpoint (a list of objects) and e-mails a "
        "short report: how many rows, and the first ones."
    ),
    parameters=(
        param("data_url", "url", "A JSON endpoint answering a list of objects.", required=True),
        param("report_recipient", "email", "Who gets the report.", required=True),
        param("report_title", "string", "Title and subject of the report.", default="Daily report"),
        param("schedule", "string", "When to send it, as cron.", default="0 8 * * 1-5"),
        param("timezone", "string", "Time zone of the schedule.", default="UTC"),
        param("max_rows", "number", "Rows listed in the e-mail.", default=20),
        param("api_credential", "string", "Credential for the endpoint, if it needs one (its id)."),
    ),
    definition=definition(
        [
            node(
                "daily", "trigger.schedule", "Every morning", {"cron": "{{ schedule }}", "timezone": "{{ timezone }}"}
            ),
            node(
                "fetch",
                "http_request",
                "Fetch the data",
                {
                    "method": "GET",
                    "url": "{{ data_url }}",
                    "credential": "{{ api_credential }}",
                    "response_type": "json",
                },
                retry=HTTP_RETRY,
            ),
            node(
                "summarize",
                "transform",
                "Summarise",
                {
                    "value": {
                        "count": "{{ steps.fetch.output.body | length }}",
                        "lines": (
                            "{% for row in steps.fetch.output.body[:vars.max_rows] %}- {{ row | tojson }}\n{% endfor %}"
                        ),
                    }
                },
            ),
            node(
                "send",
                "email",
                "Send the report",
                {
                    "to": "{{ report_recipient }}",
                    "subject": "{{ report_title }} ({{ (execution.started_at or '')[:10] }})",
                    "body": (
                        "{{ report_title }}\n\n{{ steps.summarize.output.count }} rows today. The first ones:\n\n"
                        "{{ steps.summarize.output.lines }}"
                    ),
                },
                retry={"max_attempts": 3, "backoff_seconds": 60},
            ),
        ],
        [edge("daily", "fetch"), edge("fetch", "summarize"), edge("summarize", "send")],
        variables={"max_rows": "{{ max_rows }}"},
    ),
)


INCIDENT_ESCALATION = BuiltinTemplate(
    key="incident-escalation",
    name="Incident escalation",
    category="operations",
    description=(
        "An alerting system posts incidents {title, severity, service, description} to the webhook. "
        "Critical ones page the on-call engineer in Slack and wait for an acknowledgement; without one in "
        "time they are escalated by e-mail. High ones are e-mailed to on-call; the rest are only logged."
    ),
    parameters=(
        param(
            "slack_credential",
            "string",
            "Id of the Slack incoming-webhook credential of the on-call channel.",
            required=True,
        ),
        param("oncall_email", "email", "The on-call engineer (or their alias): acknowledges incidents.", required=True),
        param("escalation_email", "email", "Who is told when nobody acknowledges in time.", required=True),
        param("ack_timeout_minutes", "number", "Minutes to wait for an acknowledgement (at least 1).", default=15),
        param("runbook_url", "url", "Where the runbooks are.", default="https://example.com/runbooks"),
    ),
    definition=definition(
        [
            node("incident", "trigger.webhook", "Incident", {"method": "POST", "respond": "immediately"}),
            node(
                "severity",
                "switch",
                "Severity",
                {
                    "value": "{{ input.body.severity | default('low') | string | lower }}",
                    "cases": [{"port": "critical", "equals": "critical"}, {"port": "high", "equals": "high"}],
                    "default_port": "low",
                },
            ),
            node(
                "page",
                "slack",
                "Page on-call",
                {
                    "credential": "{{ slack_credential }}",
                    "text": (
                        ":rotating_light: *{{ input.body.title | default('Incident') }}* (critical) on "
                        "{{ input.body.service | default('an unknown service') }}\n"
                        "{{ input.body.description | default('') }}\nRunbook: {{ runbook_url }}"
                    ),
                },
                retry={"max_attempts": 3, "backoff_seconds": 5},
            ),
            node(
                "acknowledge",
                "approval",
                "Wait for acknowledgement",
                {
                    "message": "Acknowledge the incident '{{ input.body.title | default('Incident') }}' on "
                    "{{ input.body.service | default('an unknown service') }}",
                    "approvers": ["{{ oncall_email }}"],
                    "timeout_seconds": "{{ [(vars.ack_minutes * 60) | int, 60] | max }}",
                },
            ),
            node(
                "acknowledged",
                "transform",
                "Acknowledged",
                {"value": {"escalated": False, "by": "{{ steps.acknowledge.output.by }}"}},
            ),
            node(
                "escalate",
                "email",
                "Escalate",
                {
                    "to": "{{ escalation_email }}",
                    "subject": "ESCALATED: {{ input.body.title | default('Incident') }} is not acknowledged",
                    "body": (
                        "Nobody acknowledged the critical incident '{{ input.body.title | default('Incident') }}' "
                        "on {{ input.body.service | default('an unknown service') }} within "
                        "{{ ack_timeout_minutes }} minutes.\n\n{{ input.body.description | default('') }}\n\n"
                        "Runbook: {{ runbook_url }}"
                    ),
                },
                retry={"max_attempts": 3, "backoff_seconds": 5},
            ),
            node(
                "notify_high",
                "email",
                "E-mail on-call",
                {
                    "to": "{{ oncall_email }}",
                    "subject": "High: {{ input.body.title | default('Incident') }}",
                    "body": (
                        "{{ input.body.service | default('An unknown service') }}: "
                        "{{ input.body.description | default('(no description)') }}\n\nRunbook: {{ runbook_url }}"
                    ),
                },
            ),
            node(
                "log_low",
                "transform",
                "Log it",
                {"value": {"logged": True, "severity": "{{ input.body.severity | default('low') }}"}},
            ),
        ],
        [
            edge("incident", "severity"),
            edge("severity", "page", "critical"),
            edge("page", "acknowledge"),
            edge("acknowledge", "acknowledged", "approved"),
            edge("acknowledge", "escalate", "rejected"),
            edge("severity", "notify_high", "high"),
            edge("severity", "log_low", "low"),
        ],
        variables={"ack_minutes": "{{ ack_timeout_minutes }}"},
    ),
)

TEMPLATES = (WEBHOOK_SLACK_ALERT, UPTIME_CHECK, DAILY_REPORT, INCIDENT_ESCALATION)
