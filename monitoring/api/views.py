from __future__ import annotations

from django.utils import timezone
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from executions.engine.sandbox import current_isolation
from monitoring.checks import run_checks

_check = inline_serializer(
    "HealthCheck",
    {
        "ok": serializers.BooleanField(),
        "response_time_ms": serializers.FloatField(),
        "error": serializers.CharField(allow_null=True),
    },
)


class HealthView(APIView):
    """Overall status for everyone; each dependency's result and the script isolation for staff.

    503 when a dependency is down. Scripts being refused (no isolation) does not make
    the server unhealthy: it is reported, and the script nodes fail with that reason.
    """

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {
                    "status": serializers.ChoiceField(choices=["ok", "unavailable"]),
                    "timestamp": serializers.DateTimeField(),
                    "checks": serializers.DictField(child=_check, required=False),
                    "script_isolation": inline_serializer(
                        "ScriptIsolation",
                        {
                            "mode": serializers.CharField(),
                            "available": serializers.BooleanField(),
                            "detail": serializers.CharField(),
                        },
                        required=False,
                        help_text="Staff only: the OS isolation script nodes run under, or why they are refused.",
                    ),
                },
            )
        },
        tags=["monitoring"],
    )
    def get(self, request: Request) -> Response:
        results = run_checks()
        healthy = all(result.ok for result in results)
        body: dict = {"status": "ok" if healthy else "unavailable", "timestamp": timezone.now()}
        if request.user.is_authenticated and request.user.is_staff:
            body["checks"] = {
                r.name: {"ok": r.ok, "response_time_ms": r.response_time_ms, "error": r.error} for r in results
            }
            isolation = current_isolation()
            body["script_isolation"] = {
                "mode": isolation.mode,
                "available": isolation.available,
                "detail": isolation.detail,
            }
        return Response(body, status=200 if healthy else 503)
