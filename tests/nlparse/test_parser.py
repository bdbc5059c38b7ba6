"""The parser's parts: spans, segmentation, schedules, conditions, loops, confidence, placeholders."""

from __future__ import annotations

import pytest

from flowbuilder.api.errors import Unprocessable
from nlparse.parser import parse_text
from nlparse.parser.schedule import clock
from nlparse.parser.segment import chunks


def nodes_of(text):
    return parse_text(text).definition["nodes"]


def edges_of(text):
    return [(e["source"], e.get("source_port"), e["target"]) for e in parse_text(text).definition["edges"]]


def test_unknown_phrase_is_a_warning_pointing_at_its_words():
    text = "Fetch https://a.example.com/x, then frobnicate the widgets"
    result = parse_text(text)
    unknown = [w for w in result.warnings if "Did not understand" in w.message]
    assert len(unknown) == 1
    assert text[unknown[0].start : unknown[0].end] == "frobnicate the widgets"
    assert f"(characters {unknown[0].start}-{unknown[0].end})" in unknown[0].message
    assert [n["type"] for n in result.definition["nodes"]] == ["trigger.manual", "http_request"]
    assert result.confidence < 0.7


def test_nothing_understood_is_422_pointing_at_the_words():
    with pytest.raises(Unprocessable) as caught:
        parse_text("Please frobnicate the widgets")
    assert caught.value.details == [
        {
            "field": "text",
            "message": "Did not understand 'Please frobnicate the widgets' (characters 0-29); it was left out",
        }
    ]


def test_a_trigger_alone_is_422():
    with pytest.raises(Unprocessable) as caught:
        parse_text("every day at 9am")
    assert "No step found" in caught.value.details[0]["message"]


def test_trailing_words_no_rule_uses_are_reported():
    text = "Fetch https://a.example.com/x right now"
    result = parse_text(text)
    ignored = [w for w in result.warnings if w.message.startswith("Ignored")]
    assert [text[w.start : w.end] for w in ignored] == ["right now"]


def test_urls_emails_and_quotes_are_not_cut_at_their_punctuation():
    text = "Fetch https://a.example.com/x?a=1,2. Email a.b@example.co.uk with subject 'Hi, there. Bye'"
    clauses = chunks(text)
    assert len(clauses) == 2
    nodes = nodes_of(text)
    assert nodes[1]["config"]["url"] == "https://a.example.com/x?a=1,2"
    assert nodes[2]["config"]["to"] == "a.b@example.co.uk"
    assert nodes[2]["config"]["subject"] == "Hi, there. Bye"


def test_numbered_and_bulleted_lines_are_steps():
    for text in ("1) wait 1 minute\n2) post to Slack", "- wait 1 minute\n- post to Slack"):
        assert [n["type"] for n in nodes_of(text)] == ["trigger.manual", "delay", "slack"]


def test_condition_branches_and_merge():
    text = "Fetch https://a.example.com/x. If the status is 500, email ops@example.com. Otherwise post to Slack. Then wait 1 minute."
    nodes = nodes_of(text)
    assert [n["id"] for n in nodes] == ["start", "fetch", "check", "email", "slack", "merge", "wait"]
    assert edges_of(text) == [
        ("start", None, "fetch"),
        ("fetch", None, "check"),
        ("check", "true", "email"),
        ("check", "false", "slack"),
        ("email", None, "merge"),
        ("slack", None, "merge"),
        ("merge", None, "wait"),
    ]


@pytest.mark.parametrize(
    ("phrase", "expression"),
    [
        ("the status is 500", "{{ steps.fetch.output.status == 500 }}"),
        ("the status code is not 200", "{{ steps.fetch.output.status != 200 }}"),
        ("the count is less than 3", "{{ steps.fetch.output.body.count < 3 }}"),
        ("the total is at least 10.5", "{{ steps.fetch.output.body.total >= 10.5 }}"),
        ("the state is 'open'", '{{ steps.fetch.output.body.state == "open" }}'),
        ("it contains error", '{{ "error" in (steps.fetch.output.body | string) }}'),
        ("the items are empty", "{{ not steps.fetch.output.body.items }}"),
        ("the flag is true", "{{ steps.fetch.output.body.flag == true }}"),
    ],
)
def test_condition_expressions(phrase, expression):
    nodes = nodes_of(f"Fetch https://a.example.com/x, then if {phrase}, post to Slack")
    assert nodes[2]["config"]["expression"] == expression


def test_if_it_fails_uses_the_error_port():
    text = "Fetch https://a.example.com/x; if it fails, email ops@example.com, otherwise post to Slack"
    nodes = nodes_of(text)
    assert nodes[1]["on_error"] == "error_port"
    assert edges_of(text)[1:] == [("fetch", "error", "email"), ("fetch", None, "slack")]


def test_postfix_condition():
    nodes = nodes_of("Fetch https://a.example.com/x, then email ops@example.com if the status is 503")
    assert [n["type"] for n in nodes] == ["trigger.manual", "http_request", "condition", "email"]


def test_loop_over_a_url_describes_its_body_and_declares_the_workflow_variable():
    result = parse_text(
        "For each user in https://a.example.com/users, post it to https://b.example.com/u and wait 1 minute"
    )
    loop = result.definition["nodes"][2]
    assert loop["type"] == "for_each"
    assert loop["config"]["workflow_id"] == "{{ vars.for_each_workflow_id }}"
    assert result.definition["variables"] == {"for_each_workflow_id": ""}
    assert loop["notes"] == "Per user of the users: POST https://b.example.com/u, then delay."
    warning = next(w for w in result.warnings if w.field == "definition.nodes[2].config.workflow_id")
    assert "variables.for_each_workflow_id" in warning.message


def test_credentials_are_placeholders_with_warnings_pointing_at_the_field():
    result = parse_text("Summarise it with the LLM, then post to Slack")
    definition = result.definition
    assert definition["variables"] == {"llm_credential": "", "slack_credential": ""}
    fields = {w.field for w in result.warnings}
    assert {"definition.nodes[1].config.credential", "definition.nodes[2].config.credential"} <= fields


def test_approval_port_carries_on():
    assert edges_of("Ask for approval, then post to Slack")[-1] == ("approval", "approved", "slack")


def test_ids_are_unique():
    nodes = nodes_of(
        "Fetch https://a.example.com/1, then fetch https://a.example.com/2, then wait 1 minute, then wait 2 minutes"
    )
    assert [n["id"] for n in nodes] == ["start", "fetch", "fetch_2", "wait", "wait_2"]


def test_confidence_orders_clear_over_vague():
    clear = parse_text("Every day at 9am UTC fetch https://a.example.com/x").confidence
    vague = parse_text(
        "Every day at 9am UTC fetch the thing from https://a.example.com/x and then do the magic"
    ).confidence
    assert clear == 1.0
    assert vague < clear


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("9am", (9, 0)),
        ("9:30pm", (21, 30)),
        ("12am", (0, 0)),
        ("12pm", (12, 0)),
        ("17:05", (17, 5)),
        ("noon", (12, 0)),
        ("8.30 a.m.", (8, 30)),
        ("13pm", None),
        ("25:00", None),
    ],
)
def test_clock(text, value):
    assert clock(text) == value


@pytest.mark.parametrize(
    ("text", "cron", "note"),
    [
        ("every 7 minutes", "*/7 * * * *", "Every 7 restarts at each hour"),
        ("every 90 minutes", "0 */2 * * *", "using every 2 hours"),
        ("every 3 days at 6am", "0 6 */3 * *", "restarts on the 1st"),
        ("weekly", "0 0 * * 1", "runs on Mondays"),
        ("every 2 weeks on Monday at 9am", "0 9 * * 1", "cannot skip weeks"),
        ("monthly", "0 0 1 * *", "runs on the 1st"),
        ("on the last day of the month at 23:00", "0 23 28 * *", "runs on the 28th"),
        ("every year on March 3rd at 8am", "0 8 3 3 *", None),
        ("every 30 seconds", "* * * * *", "at most once a minute"),
        ("at 9am and 5pm every day", "0 9,17 * * *", None),
        ("every evening", "0 18 * * *", "'Evening' read as 18:00"),
    ],
)
def test_schedules(text, cron, note):
    result = parse_text(f"{text} post to Slack")
    assert result.definition["nodes"][0]["config"]["cron"] == cron
    if note:
        assert any(note in w.message for w in result.warnings), [w.message for w in result.warnings]


@pytest.mark.parametrize(
    ("phrase", "zone"),
    [
        ("Paris time", "Europe/Paris"),
        ("in New York", "America/New_York"),
        ("UTC", "UTC"),
        ("CET", "CET"),
        ("EST", "America/New_York"),
        ("Sydney time", "Australia/Sydney"),
        ("America/Sao_Paulo", "America/Sao_Paulo"),
        ("(Berlin)", "Europe/Berlin"),
        ("Pacific time", "America/Los_Angeles"),
    ],
)
def test_time_zones(phrase, zone):
    nodes = nodes_of(f"Every weekday at 9am {phrase}, post to Slack")
    assert nodes[0]["config"] == {"cron": "0 9 * * 1-5", "timezone": zone}


# --- phrasings from outside the corpus: what the words mean, not how the corpus puts it ----------

GENERAL = [
    ("Daily at 6 in the morning fetch https://a.example.com/x", "trigger.schedule", "0 6 * * *", ["http_request"]),
    (
        "Run every hour at minute 15 and fetch https://a.example.com/x",
        "trigger.schedule",
        "15 * * * *",
        ["http_request"],
    ),
    ("Whenever someone hits my webhook, email ops@example.com", "trigger.webhook", None, ["email"]),
    ("At 7:30 Sydney time fetch https://a.example.com/x", "trigger.schedule", "30 7 * * *", ["http_request"]),
    ("twice a day at 9am and 5pm, check https://a.example.com/q", "trigger.schedule", "0 9,17 * * *", ["http_request"]),
    ("3 times a day check https://a.example.com/x", "trigger.schedule", "0 9,13,17 * * *", ["http_request"]),
    ("Every morning at 7, get https://a.example.com/x", "trigger.schedule", "0 7 * * *", ["http_request"]),
    (
        "Call https://a.example.com, then https://b.example.com, then https://c.example.com",
        "trigger.manual",
        None,
        ["http_request", "http_request", "http_request"],
    ),
    (
        "Webhook trigger -> HTTP GET https://a.example.com/x -> send an e-mail to a@example.com",
        "trigger.webhook",
        None,
        ["http_request", "email"],
    ),
    (
        "ask my manager for approval before calling https://a.example.com/deploy",
        "trigger.manual",
        None,
        ["approval", "http_request"],
    ),
    ("Fetch https://a.example.com/x and slack it", "trigger.manual", None, ["http_request", "slack"]),
    ("Send a daily summary email at 7pm to boss@example.com", "trigger.schedule", "0 19 * * *", ["email"]),
    ("Post a message to Slack every morning saying 'Good morning team'", "trigger.schedule", "0 9 * * *", ["slack"]),
    ("When someone submits the form, send a thank-you email to c@example.com", "trigger.webhook", None, ["email"]),
    (
        "On the 1st and 15th of every month at 9am, hit https://a.example.com/run",
        "trigger.schedule",
        "0 9 1,15 * *",
        ["http_request"],
    ),
    (
        "Webhook -> classify the message with the LLM -> post the result to slack",
        "trigger.webhook",
        None,
        ["llm", "slack"],
    ),
    ("Fetch https://a.example.com/x and alert slack", "trigger.manual", None, ["http_request", "slack"]),
    ("At 8am send a Slack message 'stand-up'", "trigger.schedule", "0 8 * * *", ["slack"]),
    (
        "Fetch https://a.example.com/x and https://b.example.com/y and compare them with the LLM",
        "trigger.manual",
        None,
        ["http_request", "http_request", "llm"],
    ),
    (
        "for each user in https://a.example.com/users send an email to a@example.com, then post to slack",
        "trigger.manual",
        None,
        ["http_request", "for_each", "slack"],
    ),
]


@pytest.mark.parametrize(("text", "trigger", "cron", "types"), GENERAL, ids=[g[0][:50] for g in GENERAL])
def test_phrasings_nobody_tuned_for(text, trigger, cron, types):
    from tests.nlparse.devset import action_types

    definition = parse_text(text).definition
    assert definition["nodes"][0]["type"] == trigger
    if cron:
        assert definition["nodes"][0]["config"]["cron"] == cron
    assert action_types(definition) == types


def test_a_translation_goes_to_the_language_named():
    result = parse_text("When a webhook is received, translate the message to French with the LLM")
    llm = next(n for n in result.definition["nodes"] if n["type"] == "llm")
    assert llm["config"]["prompt"].startswith("Translate the following into French:")


def test_several_addresses_are_fetched_and_given_on_together():
    result = parse_text("fetch https://a.example.com/x and https://b.example.com/y, then email them to a@example.com")
    nodes = {n["id"]: n for n in result.definition["nodes"]}
    assert nodes["responses"]["config"]["value"] == "{{ [steps.fetch.output.body, steps.fetch_2.output.body] }}"
    assert nodes["email"]["config"]["body"] == "{{ steps.responses.output | tojson(indent=2) }}"


def test_an_email_body_is_text():
    """A structured result is serialised for the e-mail body (its field takes text); an LLM's text is not."""
    fetched = parse_text("fetch https://a.example.com/x and email it to a@example.com").definition
    email = next(n for n in fetched["nodes"] if n["type"] == "email")
    assert email["config"]["body"] == "{{ steps.fetch.output.body | tojson(indent=2) }}"
    summarised = parse_text("summarise https://a.example.com/x with AI and email it to a@example.com").definition
    email = next(n for n in summarised["nodes"] if n["type"] == "email")
    assert email["config"]["body"] == "{{ steps.summarise.output.text }}"


def test_an_error_answer_is_a_condition_on_the_status():
    result = parse_text("every 5 minutes check https://a.example.com and if it returns an error email a@example.com")
    nodes = {n["id"]: n for n in result.definition["nodes"]}
    assert nodes["check"]["config"]["expression"] == "{{ steps.fetch.output.status >= 400 }}"
    assert nodes["fetch"]["config"]["fail_on_status"] is False  # the condition sees the error status


def test_confidence_falls_with_each_guess():
    sure = parse_text("every day at 9am Berlin time fetch https://a.example.com/x")
    guessed = parse_text("every morning fetch https://a.example.com/x")  # 09:00 and UTC are guesses
    assert sure.confidence == 1.0
    assert guessed.confidence < sure.confidence
    assert {w.message for w in guessed.warnings} >= {
        "'Morning' read as 09:00",
        "No time zone given; the schedule runs in UTC",
    }
