"""What each event says: the ``data`` of its payload, built from the object it is about.

Payload: ``{"event", "data", "timestamp", "delivery_id"}``; ``timestamp`` is
when the event happened (ISO-8601 UTC), the same for every attempt. Run events
carry the run's input (``started``), output (``completed``) or error
(``failed``); when that would make the body larger than
``FLOWBUILDER_WEBHOOK_DELIVERY_MAX_PAYLOAD_BYTES`` it is left out and
``truncated`` is true (the run is at ``GET /executions/{id}``).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from django.conf import settings
from django.utils import timezone

from flowbuilder.timestamps import utc_iso
from webhooks.models import Event


def iso(moment: datetime | None) -> str | None:
    return utc_iso(moment) if moment else None


def now_iso() -> str:
    return iso(timezone.now()) or ""


def envelope(event: str, data: dict[str, Any], delivery_id: Any, timestamp: str | None = None) -> dict[str, Any]:
    return {"event": event, "data": data, "timestamp": timestamp or now_iso(), "delivery_id": str(delivery_id)}


def execution_event(status: str) -> str:
    """The event a run that ended with ``status`` sends: completed → completed; failed, timed out, cancelled → failed."""
    return Event.EXECUTION_COMPLETED if status == "completed" else Event.EXECUTION_FAILED


def execution_data(execution: Any, event: str) -> dict[str, Any]:
    """A run's summary; plus its input (started), output (completed) or error (failed), within the size limit."""
    workflow = execution.workflow
    data: dict[str, Any] = {
        "execution_id": str(execution.pk),
        "workflow_id": str(execution.workflow_id),
        "workflow_name": workflow.name,
        "workflow_version": getattr(execution.workflow_version, "number", None),
        "status": execution.status,
        "trigger": execution.trigger,
        "created_at": iso(execution.created_at),
        "started_at": iso(execution.started_at),
        "completed_at": iso(execution.completed_at),
        "duration_seconds": execution.duration,
        "truncated": False,
    }
    if event == Event.EXECUTION_STARTED:
        key, value = "input_data", execution.input_data
    elif event == Event.EXECUTION_COMPLETED:
        key, value = "output_data", execution.output_data
    else:
        key, value = "error", execution.error
    data[key] = value
    if _size(data) > settings.FLOWBUILDER_WEBHOOK_DELIVERY_MAX_PAYLOAD_BYTES:
        data[key], data["truncated"] = None, True
    return data


def file_data(stored: Any) -> dict[str, Any]:
    """A processed (or failed) file and its processing result."""
    result = stored.processing_result
    data: dict[str, Any] = {
        "file": {
            "id": str(stored.pk),
            "name": stored.name,
            "content_type": stored.content_type,
            "category": stored.category,
            "size": stored.size,
        },
        "status": stored.status,
        "workflow_id": str(stored.workflow_id) if stored.workflow_id else None,
        "execution_id": str(stored.execution_id) if stored.execution_id else None,
        "result": result,
        "truncated": False,
    }
    if _size(data) > settings.FLOWBUILDER_WEBHOOK_DELIVERY_MAX_PAYLOAD_BYTES:
        data["result"], data["truncated"] = None, True
    return data


def quota_data(*, user: Any, used_bytes: int, quota_bytes: int, requested_bytes: int) -> dict[str, Any]:
    return {
        "user_id": str(user.pk),
        "quota": "file_storage",
        "used_bytes": used_bytes,
        "quota_bytes": quota_bytes,
        "requested_bytes": requested_bytes,
    }


def ping_data(subscription: Any) -> dict[str, Any]:
    return {"subscription_id": str(subscription.pk), "message": "A test delivery from Flowbuilder."}


def _size(data: Any) -> int:
    return len(json.dumps(data, separators=(",", ":"), default=str).encode())
