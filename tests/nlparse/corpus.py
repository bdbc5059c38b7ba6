"""What the built-in parser understands: sentences with their expected trigger, node types and key config.

Each ``Case`` names the trigger (type, and cron and time zone for schedules),
the node types in definition order (trigger first; a condition's "true"
branch before its "false" branch) and, per node index, config keys that must
have these values. ``HARD`` holds sentences it does not fully understand,
with the warnings it gives for them (substrings).

``python -m tests.nlparse.accuracy`` prints the parser's accuracy on both.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Case:
    text: str
    trigger: dict[str, Any]
    nodes: list[str]
    config: dict[int, dict[str, Any]] = field(default_factory=dict)


MANUAL = {"type": "trigger.manual"}
WEBHOOK = {"type": "trigger.webhook"}


def schedule(cron: str, timezone: str = "UTC") -> dict[str, Any]:
    return {"type": "trigger.schedule", "cron": cron, "timezone": timezone}


CORPUS: list[Case] = [
    # --- schedules --------------------------------------------------------------------
    Case(
        "Every weekday at 9am Paris time, fetch https://api.example.com/status",
        schedule("0 9 * * 1-5", "Europe/Paris"),
        ["trigger.schedule", "http_request"],
        {1: {"method": "GET", "url": "https://api.example.com/status"}},
    ),
    Case(
        "Every 15 minutes fetch https://example.com/health",
        schedule("*/15 * * * *"),
        ["trigger.schedule", "http_request"],
    ),
    Case(
        "Every Monday at 8:30 send an email to team@example.com with subject 'Weekly plan'",
        schedule("30 8 * * 1"),
        ["trigger.schedule", "email"],
        {1: {"to": "team@example.com", "subject": "Weekly plan"}},
    ),
    Case("Daily at noon, post to Slack", schedule("0 12 * * *"), ["trigger.schedule", "slack"]),
    Case(
        "On the first of every month, fetch https://billing.example.com/invoices",
        schedule("0 0 1 * *"),
        ["trigger.schedule", "http_request"],
    ),
    Case(
        "Every Monday and Thursday at 8:30 in New York, fetch https://a.example.com/report",
        schedule("30 8 * * 1,4", "America/New_York"),
        ["trigger.schedule", "http_request"],
    ),
    Case(
        "Every day at 7:45 CET fetch https://a.example.com/x",
        schedule("45 7 * * *", "CET"),
        ["trigger.schedule", "http_request"],
    ),
    Case("At 9am on weekdays UTC, post to Slack", schedule("0 9 * * 1-5"), ["trigger.schedule", "slack"]),
    Case(
        "Every hour between 9am and 5pm, check https://status.example.com",
        schedule("0 9-17 * * *"),
        ["trigger.schedule", "http_request"],
    ),
    Case("Hourly: fetch https://a.example.com/queue", schedule("0 * * * *"), ["trigger.schedule", "http_request"]),
    Case(
        "Every 2 hours fetch https://a.example.com/sync", schedule("0 */2 * * *"), ["trigger.schedule", "http_request"]
    ),
    Case(
        "Every Friday at 5pm London time, email boss@example.com with subject Weekly report",
        schedule("0 17 * * 5", "Europe/London"),
        ["trigger.schedule", "email"],
        {1: {"subject": "Weekly report"}},
    ),
    Case(
        "On the 15th of each month at 6pm, post to Slack",
        schedule("0 18 15 * *"),
        ["trigger.schedule", "slack"],
    ),
    Case(
        "Every weekend at 10am Tokyo time, fetch https://a.example.com/x",
        schedule("0 10 * * 0,6", "Asia/Tokyo"),
        ["trigger.schedule", "http_request"],
    ),
    Case("Every minute, check https://a.example.com/ping", schedule("* * * * *"), ["trigger.schedule", "http_request"]),
    Case(
        "Every weekday at 18:00 Europe/Berlin, fetch https://a.example.com/close",
        schedule("0 18 * * 1-5", "Europe/Berlin"),
        ["trigger.schedule", "http_request"],
    ),
    Case(
        "Every day at 6:30pm PST fetch https://a.example.com/x",
        schedule("30 18 * * *", "America/Los_Angeles"),
        ["trigger.schedule", "http_request"],
    ),
    Case(
        "Every Monday, Wednesday and Friday at 7am, post to Slack",
        schedule("0 7 * * 1,3,5"),
        ["trigger.schedule", "slack"],
    ),
    Case(
        "Every 30 minutes on weekdays, fetch https://a.example.com/x",
        schedule("*/30 * * * 1-5"),
        ["trigger.schedule", "http_request"],
    ),
    Case(
        "Every morning, summarise https://news.example.com with the LLM",
        schedule("0 9 * * *"),
        ["trigger.schedule", "http_request", "llm"],  # the page is fetched, then summarised
        {
            1: {"url": "https://news.example.com"},
            2: {"prompt": "Summarise the following:\n\n{{ steps.fetch.output.body }}"},
        },
    ),
    Case("every 10 min fetch https://a.example.com/x", schedule("*/10 * * * *"), ["trigger.schedule", "http_request"]),
    Case(
        "Every 1st of the month at 8am send the invoice report to finance@example.com",
        schedule("0 8 1 * *"),
        ["trigger.schedule", "email"],
        {1: {"to": "finance@example.com"}},
    ),
    Case(
        "Run the workflow 'Cleanup' every Sunday at 3am",
        schedule("0 3 * * 0"),
        ["trigger.schedule", "sub_workflow"],
        {1: {"workflow_id": "{{ vars.run_workflow_workflow_id }}"}},
    ),
    Case(
        "Every day at 09:00 in Berlin, fetch https://a.example.com/x then email me@example.com",
        schedule("0 9 * * *", "Europe/Berlin"),
        ["trigger.schedule", "http_request", "email"],
    ),
    # --- other triggers ---------------------------------------------------------------
    Case(
        "When a webhook is received, POST the result to https://hooks.example.com/in",
        WEBHOOK,
        ["trigger.webhook", "http_request"],
        {1: {"method": "POST", "url": "https://hooks.example.com/in", "body": "{{ input.body }}"}},
    ),
    Case("When I run it, fetch https://a.example.com/x", MANUAL, ["trigger.manual", "http_request"]),
    Case("Manually: post to Slack", MANUAL, ["trigger.manual", "slack"]),
    Case(
        "When a file is uploaded, summarise it with the LLM",
        {"type": "trigger.manual", "config": {"file": {"required": True}}},
        ["trigger.manual", "llm"],
    ),
    Case(
        "When an image is uploaded, POST it to https://vision.example.com/analyze",
        {"type": "trigger.manual", "config": {"file": {"required": True, "categories": ["image"]}}},
        ["trigger.manual", "http_request"],
    ),
    # --- sequences --------------------------------------------------------------------
    Case(
        "Fetch https://api.example.com/orders, then POST the result to https://crm.example.com/import",
        MANUAL,
        ["trigger.manual", "http_request", "http_request"],
        {2: {"method": "POST", "body": "{{ steps.fetch.output.body }}"}},
    ),
    Case(
        "fetch https://a.example.com/data and then summarise it with the LLM and then post to Slack",
        MANUAL,
        ["trigger.manual", "http_request", "llm", "slack"],
        {2: {"credential": "{{ vars.llm_credential }}"}, 3: {"text": "{{ steps.summarise.output.text }}"}},
    ),
    Case(
        "1. Fetch https://a.example.com/report\n2. Wait 10 minutes\n3. Ask for approval\n4. Post to Slack",
        MANUAL,
        ["trigger.manual", "http_request", "delay", "approval", "slack"],
        {2: {"seconds": 600}},
    ),
    Case(
        "Send an email to ops@example.com with subject 'Deploy finished'",
        MANUAL,
        ["trigger.manual", "email"],
        {1: {"to": "ops@example.com", "subject": "Deploy finished"}},
    ),
    Case(
        "Email alice@example.com and bob@example.com with subject Hello",
        MANUAL,
        ["trigger.manual", "email"],
        {1: {"to": ["alice@example.com", "bob@example.com"], "subject": "Hello"}},
    ),
    Case("Wait 2 hours, then post to Slack", MANUAL, ["trigger.manual", "delay", "slack"], {1: {"seconds": 7200}}),
    Case(
        "Wait for 30 seconds then fetch https://a.example.com/x",
        MANUAL,
        ["trigger.manual", "delay", "http_request"],
        {1: {"seconds": 30}},
    ),
    Case(
        "Ask boss@example.com for approval, then POST to https://a.example.com/release",
        MANUAL,
        ["trigger.manual", "approval", "http_request"],
        {1: {"approvers": ["boss@example.com"]}, 2: {"method": "POST"}},
    ),
    Case(
        "Translate it with GPT-4o and email it to team@example.com",
        MANUAL,
        ["trigger.manual", "llm", "email"],
        {1: {"model": "GPT-4o"}},
    ),
    Case("DELETE https://a.example.com/cache", MANUAL, ["trigger.manual", "http_request"], {1: {"method": "DELETE"}}),
    Case(
        "PUT the data to https://a.example.com/items/1",
        MANUAL,
        ["trigger.manual", "http_request"],
        {1: {"method": "PUT", "body": "{{ input }}"}},
    ),
    Case(
        "Post to #ops on Slack saying 'Backup done'",
        MANUAL,
        ["trigger.manual", "slack"],
        {1: {"text": "Backup done", "credential": "{{ vars.slack_credential }}"}},
    ),
    Case(
        "When a webhook is received, summarise it with the LLM and respond with the result",
        WEBHOOK,
        ["trigger.webhook", "llm", "webhook_response"],
        {0: {"respond": "when_done"}},
    ),
    Case("Wait half an hour then post to Slack", MANUAL, ["trigger.manual", "delay", "slack"], {1: {"seconds": 1800}}),
    Case(
        "When a webhook is received, send the payload to https://a.example.com/in",
        WEBHOOK,
        ["trigger.webhook", "http_request"],
        {1: {"method": "POST", "body": "{{ input.body }}"}},
    ),
    # --- conditions -------------------------------------------------------------------
    Case(
        "Every weekday at 9am Paris time, fetch https://api.example.com/status, then if the status is 500 email "
        "ops@example.com with subject 'API down', otherwise post to Slack.",
        schedule("0 9 * * 1-5", "Europe/Paris"),
        ["trigger.schedule", "http_request", "condition", "email", "slack"],
        {2: {"expression": "{{ steps.fetch.output.status == 500 }}"}},
    ),
    Case(
        "Fetch https://shop.example.com/price. If the price is greater than 100, email me@example.com. "
        "Otherwise wait 1 hour.",
        MANUAL,
        ["trigger.manual", "http_request", "condition", "email", "delay"],
        {2: {"expression": "{{ steps.fetch.output.body.price > 100 }}"}},
    ),
    Case(
        "Fetch https://a.example.com/x. If the status is not 200, post to Slack. Then wait 5 minutes.",
        MANUAL,
        ["trigger.manual", "http_request", "condition", "slack", "merge", "delay"],
        {2: {"expression": "{{ steps.fetch.output.status != 200 }}"}},
    ),
    Case(
        "Every 5 minutes ping https://a.example.com/health; if the status is not 200 notify ops@example.com",
        schedule("*/5 * * * *"),
        ["trigger.schedule", "http_request", "condition", "email"],
        {2: {"expression": "{{ steps.fetch.output.status != 200 }}"}, 3: {"to": "ops@example.com"}},
    ),
    Case(
        "When a webhook is received, if the status is 'paid' POST it to https://a.example.com/paid",
        WEBHOOK,
        ["trigger.webhook", "condition", "http_request"],
        {1: {"expression": '{{ input.body.status == "paid" }}'}},
    ),
    Case(
        "Fetch https://a.example.com/x; if it fails, email ops@example.com",
        MANUAL,
        ["trigger.manual", "http_request", "email"],
        {1: {"url": "https://a.example.com/x"}},
    ),
    # --- loops ------------------------------------------------------------------------
    Case(
        "Fetch https://a.example.com/orders, then for each order in the orders, POST it to https://crm.example.com/o",
        MANUAL,
        ["trigger.manual", "http_request", "for_each"],
        {2: {"items": "{{ steps.fetch.output.body.orders }}", "workflow_id": "{{ vars.for_each_workflow_id }}"}},
    ),
    Case(
        "For each user in https://a.example.com/users, send an email to admin@example.com",
        MANUAL,
        ["trigger.manual", "http_request", "for_each"],
        {2: {"items": "{{ steps.fetch_items.output.body }}"}},
    ),
]

# Sentences the parser does not fully understand, and the warnings it gives (substrings).
HARD: list[tuple[str, list[str]]] = [
    ("Fetch https://a.example.com/x and frobnicate the widgets", ["Did not understand 'frobnicate the widgets'"]),
    ("Every day at 9am fetch https://a.example.com and tweet it", ["Did not understand 'tweet it'"]),
    ("Twice a day post to Slack", ["No times given; it runs at 09:00, 17:00", "No time zone given"]),
    ("Post to Slack", ["No trigger in the text", "Choose the Slack webhook credential"]),
    ("Send an email with the report", ["No recipient in the text", "No subject in the text"]),
    ("Every day fetch https://a.example.com/x", ["No time given; it runs at midnight", "No time zone given"]),
    ("Every 7 minutes fetch https://a.example.com/x", ["Every 7 restarts at each hour"]),
    ("Run the python script", ["Write the script's code"]),
    ("Each night at 2am post to Slack and back up the database", ["Did not understand 'back up the database'"]),
]
