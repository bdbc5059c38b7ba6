"""``GET /audit``: the audit log for staff."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import generics
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.permissions import IsStaff
from audit import selectors
from audit.api import serializers as s
from audit.models import AuditEvent
from flowbuilder.api.ranges import date_range


@extend_schema(tags=["audit"])
class AuditEventListView(generics.ListAPIView):
    """Audit events, newest first (staff only)."""

    permission_classes = [IsStaff]
    serializer_class = s.AuditEventSerializer
    queryset = AuditEvent.objects.none()
    filter_backends: list = []

    def get_queryset(self) -> QuerySet[AuditEvent]:
        if getattr(self, "swagger_fake_view", False):
            return AuditEvent.objects.none()
        query = s.AuditQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        period = date_range(self.request.query_params)
        return selectors.audit_events(filters=query.validated_data, period=period)

    @extend_schema(
        summary="The audit log",
        parameters=[s.AuditQuerySerializer],
        responses={200: s.AuditEventSerializer(many=True), 403: OpenApiResponse(description="Staff only")},
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)
