"""Monitoring API: health (public status, details for staff) and metrics (staff)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import ApiKey, User
from accounts.permissions import IsStaff
from analytics.selectors import Period, ai_usage
from audit.models import AuditEvent
from monitoring import prometheus, selectors
from monitoring.api import serializers as s
from monitoring.checks import run_checks
from monitoring.system import system_metrics
from workflows.models import Workflow


class HealthView(APIView):
    """Overall status for everyone; each dependency's result for staff. 503 when a critical one is down."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: s.HealthSerializer,
            503: OpenApiResponse(s.HealthSerializer, description="A dependency is down"),
        },
        tags=["monitoring"],
    )
    def get(self, request: Request) -> Response:
        staff = request.user.is_authenticated and request.user.is_staff
        results = run_checks(detail=staff)
        healthy = all(r.ok for r in results if r.critical)
        status = "ok" if all(r.ok for r in results) else "degraded" if healthy else "unavailable"
        body: dict[str, Any] = {"status": status, "timestamp": timezone.now()}
        if staff:
            body["checks"] = {
                r.name: {
                    "ok": r.ok,
                    "critical": r.critical,
                    "response_time_ms": r.response_time_ms,
                    "error": r.error,
                    "detail": r.detail,
                }
                for r in results
            }
        return Response(s.HealthSerializer(body).data, status=200 if healthy else 503)


def application_metrics() -> dict[str, Any]:
    from django.conf import settings

    users = User.objects.aggregate(
        total=Count("pk"),
        active=Count("pk", filter=Q(is_active=True, is_guest=False)),
        staff=Count("pk", filter=Q(is_staff=True)),
        guests=Count("pk", filter=Q(is_guest=True)),
    )
    return {
        "mode": "embedded" if settings.EMBEDDED else "production",
        "requests": prometheus.request_totals(),
        "users": users,
        "api_keys_active": ApiKey.objects.active().count(),
        "audit_events_24h": AuditEvent.objects.filter(created_at__gte=timezone.now() - timedelta(hours=24)).count(),
    }


def workflow_metrics() -> dict[str, Any]:
    depth = selectors.queue_depth()
    return {
        "workflows": Workflow.objects.aggregate(total=Count("pk"), active=Count("pk", filter=Q(is_active=True))),
        "executions_by_status": selectors.executions_by_status(),
        "last_24h": selectors.run_stats().as_dict(),
        "queue": {"available": depth.available, "queues": depth.queues, "error": depth.error},
        "workers": selectors.workers_seen(),
    }


class MetricsView(APIView):
    """System, application, workflow and AI-usage figures for staff (the same as /metrics, as JSON)."""

    permission_classes = [IsStaff]

    @extend_schema(
        summary="System, application, workflow and AI usage metrics",
        responses={200: s.MetricsSerializer, 403: OpenApiResponse(description="Staff only")},
        tags=["monitoring"],
    )
    def get(self, request: Request) -> Response:
        now = timezone.now()
        body = {
            "timestamp": now,
            "system": system_metrics(),
            "application": application_metrics(),
            "workflows": workflow_metrics(),
            "ai_usage": ai_usage(None, Period(now - timedelta(hours=24), now)),
        }
        return Response(s.MetricsSerializer(body).data)
