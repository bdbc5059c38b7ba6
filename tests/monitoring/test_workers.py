"""Monitoring against the session's real Celery worker."""

from __future__ import annotations

import pytest

from monitoring import selectors
from tests.clients import client_for

LIVE = pytest.mark.django_db(transaction=True, serialized_rollback=True)


@LIVE
def test_workers_seen_answers_with_the_running_worker(celery_worker, settings):
    settings.FLOWBUILDER_WORKER_PING_TIMEOUT = 2.0
    names = selectors.workers_seen(refresh=True)
    assert celery_worker.hostname in names
    assert selectors.workers_seen() == names  # cached


@LIVE
def test_staff_health_reports_the_workers(celery_worker, make_user, settings):
    settings.FLOWBUILDER_WORKER_PING_TIMEOUT = 2.0
    body = client_for(make_user(is_staff=True)).get("/api/v1/monitoring/health").json()
    assert body["status"] == "ok"
    workers = body["checks"]["workers"]
    assert workers["ok"] is True
    assert celery_worker.hostname in workers["detail"]["names"]
