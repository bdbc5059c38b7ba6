"""Audit reads."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.db.models import QuerySet

from audit.models import AuditEvent
from flowbuilder.api.ranges import DateRange


def audit_events(*, filters: Mapping[str, Any], period: DateRange) -> QuerySet[AuditEvent]:
    """Events newest first, narrowed by ``filters`` (actor, action, object_type, object_id, source).

    ``action`` ending in ``*`` matches by prefix (``auth.*``).
    """
    queryset = AuditEvent.objects.order_by("-created_at", "-id")
    if filters.get("actor"):
        queryset = queryset.filter(actor_id=filters["actor"])
    action = filters.get("action")
    if action:
        queryset = (
            queryset.filter(action__startswith=action[:-1]) if action.endswith("*") else queryset.filter(action=action)
        )
    for name in ("object_type", "object_id", "source"):
        if filters.get(name):
            queryset = queryset.filter(**{name: filters[name]})
    if period.start is not None:
        queryset = queryset.filter(created_at__gte=period.start)
    if period.end is not None:
        queryset = queryset.filter(created_at__lt=period.end)
    return queryset
