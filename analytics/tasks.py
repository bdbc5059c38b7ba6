"""Periodic analytics work (beat)."""

from __future__ import annotations

from celery import shared_task

from analytics.usage import flush_api_usage


@shared_task(name="analytics.flush_api_usage", acks_late=True, ignore_result=True, queue="default")
def flush() -> int:
    return flush_api_usage()
