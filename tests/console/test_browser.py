"""The console in a real browser (Debian's Chromium, driven by Playwright) on a live server.

The demo user logs in, opens the dashboard, a workflow and a run still going; the run page's
nodes turn from ``running`` to ``completed`` over its websocket without a reload, the timeline
has a bar per attempt, a failed node shows its error. Screenshots of each page are left in
``var/screenshots/`` (``FLOWBUILDER_SCREENSHOTS_DIR``) for people to look at.
"""

from __future__ import annotations

import io
import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from playwright.sync_api import Page, expect, sync_playwright

from accounts.models import User
from executions.models import Execution
from tests.engine_fixtures import wait_for
from tests.executions.live.helpers import running_server, server_env, start
from tests.workflows.helpers import edge, linear, node
from workflows.services import workflow_create

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

CHROMIUM = "/usr/bin/chromium"
SHOTS = Path(os.environ.get("FLOWBUILDER_SCREENSHOTS_DIR", settings.BASE_DIR / "var" / "screenshots"))


@pytest.fixture
def demo(settings) -> tuple[User, str]:
    """The demo user ``make run`` makes, hashed as the server (not the tests' fast hasher) checks."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]
    call_command("create_demo_user", stdout=io.StringIO())
    password = (settings.DATA_DIR / "demo_password").read_text().strip()
    user = User.objects.get(email="demo@flowbuilder.local")
    user.set_password(password)
    user.save(update_fields=["password"])
    return user, password


@pytest.fixture
def site(celery_worker, tmp_path) -> Iterator[str]:
    env = server_env(FLOWBUILDER_EXTRA_NODE_MODULES="tests.executions.nodes", RATE_LIMIT_ENABLED="false")
    with running_server(env, tmp_path / "server.log") as base:
        yield base


@pytest.fixture(autouse=True)
def _orm_beside_playwright(monkeypatch):
    # Playwright's sync API runs an event loop in this thread; the test's own ORM calls are still
    # plain blocking calls (pytest-django's advice for Playwright).
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture
def page(site, demo) -> Iterator[Page]:
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1300, "height": 1000}, base_url=site)
        page.goto("/admin/login/")
        page.fill("#id_username", demo[0].email)
        page.fill("#id_password", demo[1])
        page.click("input[type=submit]")
        expect(page.locator("#console-dashboard")).to_be_visible()
        yield page
        browser.close()


def statuses(page: Page) -> dict[str, str]:
    return {
        g.get_attribute("data-node-id"): g.get_attribute("data-status")
        for g in page.query_selector_all(".fb-graph .fb-node")
    }


def test_the_dashboard_shows_the_last_days_runs_as_charts(page, demo):
    workflow = workflow_create(owner=demo[0], name="counted", definition=linear(node("start", "trigger.manual")))
    runs = [start(workflow) for _ in range(3)]
    wait_for(lambda: Execution.objects.filter(pk__in=[r.pk for r in runs], status="completed").count() == 3, timeout=30)
    page.goto("/admin/")
    page.screenshot(path=SHOTS / "dashboard.png", full_page=True)
    titles = [t.text_content() for t in page.query_selector_all('#fb-chart-runs rect[data-status="completed"] title')]
    # One bar, or two when the three runs straddle an hour: three completed runs in all.
    assert sum(int(re.fullmatch(r"\d\d:00: (\d+) completed", t).group(1)) for t in titles) == 3, titles
    assert page.query_selector_all("#fb-chart-durations circle[data-series=p50]")
    # The demo user can open what the dashboard links to (it is a console operator, not a bare staff flag).
    page.click('#content-main a[href="/admin/executions/execution/"]')
    expect(page.locator("#result_list")).to_be_visible()


def test_a_workflow_is_drawn_as_a_graph_with_its_ports(page, demo):
    definition = {
        "nodes": [
            node("start", "trigger.manual"),
            node("check", "condition", expression="{{ input.n > 1 }}"),
            node("big", "output", value="big"),
            node("small", "output", value="small"),
        ],
        "edges": [edge("start", "check"), edge("check", "big", "true"), edge("check", "small", "false")],
        "variables": {},
        "settings": {},
    }
    workflow = workflow_create(owner=demo[0], name="Branches", definition=definition)
    page.goto(f"/admin/workflows/workflow/{workflow.pk}/change/")
    page.screenshot(path=SHOTS / "workflow.png", full_page=True)
    assert set(statuses(page)) == {"start", "check", "big", "small"}
    ports = {g.get_attribute("data-port") for g in page.query_selector_all(".fb-graph .fb-edge")}
    assert ports == {"", "true", "false"}
    boxes = {g.get_attribute("data-node-id"): g.bounding_box() for g in page.query_selector_all(".fb-graph .fb-node")}
    assert boxes["start"]["x"] < boxes["check"]["x"] < boxes["big"]["x"]  # left to right
    assert boxes["big"]["x"] == boxes["small"]["x"]  # the two branches in one column


def test_a_run_in_progress_turns_completed_live_with_a_bar_per_attempt(page, demo, tmp_path):
    gate = tmp_path / "gate"
    workflow = workflow_create(
        owner=demo[0],
        name="Held then flaky",
        definition=linear(
            node("start", "trigger.manual"),
            node("hold", "test.slow", gate=str(gate), seconds=0),
            {
                **node("flaky", "test.flaky", fail_times=2),
                "retry": {"max_attempts": 3, "backoff_seconds": 0.1},
            },
            node("out", "output", value="done"),
        ),
    )
    execution = start(workflow)
    wait_for(lambda: execution.steps.filter(node_id="hold", status="running").exists(), timeout=30)
    page.goto(f"/admin/executions/execution/{execution.pk}/change/")
    expect(page.locator("h1")).to_contain_text("Held then flaky")
    expect(page.locator('.fb-graph [data-node-id="hold"]')).to_have_attribute("data-status", "running")
    expect(page.locator('form[data-operation="cancel"] button')).to_be_visible()
    page.evaluate("window.__notReloaded = true")
    page.screenshot(path=SHOTS / "run-in-progress.png", full_page=True)

    gate.touch()
    for node_id in ("start", "hold", "flaky", "out"):
        expect(page.locator(f'.fb-graph [data-node-id="{node_id}"]')).to_have_attribute(
            "data-status", "completed", timeout=30_000
        )
    expect(page.locator("#fb-run-status")).to_have_attribute("data-status", "completed")
    assert page.evaluate("window.__notReloaded") is True  # the same page, updated over the socket
    expect(page.locator("#fb-stale")).to_be_visible()  # says the admin's fields below are as of the page's load
    expect(page.locator('.fb-bar[data-node-id="flaky"]')).to_have_count(3)
    attempts = [b.get_attribute("data-status") for b in page.query_selector_all('.fb-bar[data-node-id="flaky"]')]
    assert attempts == ["failed", "failed", "completed"]
    expect(page.locator('.fb-bar[data-node-id="hold"]')).to_have_count(1)
    expect(page.locator('form[data-operation="cancel"]')).to_have_count(0)  # over: nothing to cancel
    page.screenshot(path=SHOTS / "run-completed.png", full_page=True)


def test_a_failed_node_shows_its_error_and_log_lines(page, demo):
    workflow = workflow_create(
        owner=demo[0],
        name="Fails",
        definition=linear(
            node("start", "trigger.manual"),
            node("broken", "test.flaky", fail_times=5, retryable=False),
            node("out", "output", value="never"),
        ),
    )
    execution = start(workflow)
    wait_for(lambda: Execution.objects.get(pk=execution.pk).is_finished, timeout=30)
    page.goto(f"/admin/executions/execution/{execution.pk}/change/")
    assert statuses(page) == {"start": "completed", "broken": "failed", "out": "cancelled"}
    page.click('.fb-graph [data-node-id="broken"]')
    panel = page.locator("#fb-node-panel")
    expect(panel).to_be_visible()
    expect(panel).to_have_attribute("data-status", "failed")
    expect(panel.locator("pre.fb-error")).to_contain_text("flaky failure on attempt 1")
    expect(panel).to_contain_text("Step failed")
    expect(page.locator('form[data-operation="retry"] button')).to_be_visible()
    page.screenshot(path=SHOTS / "run-failed.png", full_page=True)


def test_the_front_page_says_where_things_are(site):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page(base_url=site)
        assert page.goto("/").status == 200
        for link in ("#link-docs", "#link-console", "#link-health"):
            expect(page.locator(link)).to_be_visible()
        page.click("#link-health")
        expect(page.locator("body")).to_contain_text('"status"')
        browser.close()
