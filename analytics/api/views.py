"""``GET /analytics/usage|workflows|costs``: one user's figures over a period (default: the last 30 days)."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.permissions import HasApiPermission
from analytics import selectors
from analytics.api import serializers as s
from flowbuilder.api.errors import Forbidden, NotFound
from flowbuilder.api.pagination import PagePagination
from flowbuilder.api.ranges import date_range

MAX_DAYS = 366
FORBIDDEN = OpenApiResponse(description="Only staff may ask about another user")


def subject_and_period(request: Request) -> tuple[User, selectors.Period]:
    """The user asked about (the caller, or for staff ``user=``) and the period; 400/403/404 as due."""
    query = s.AnalyticsQuerySerializer(data=request.query_params)
    query.is_valid(raise_exception=True)
    bounds = date_range(request.query_params, default_days=30, max_days=MAX_DAYS)
    period = selectors.Period(bounds.start, bounds.end)  # type: ignore[arg-type]
    user_id = query.validated_data.get("user")
    if user_id is None or user_id == request.user.pk:
        return request.user, period
    if not request.user.is_staff:
        raise Forbidden("Only staff may see another user's analytics", field="user")
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        raise NotFound("User not found", field="user")
    return user, period


def header(user: User, period: selectors.Period) -> dict[str, Any]:
    return {"user": {"id": user.pk, "email": user.email}, "from": period.start, "to": period.end}


class UsageView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "analytics:read"}

    @extend_schema(
        summary="Your runs, API calls and LLM usage over a period",
        parameters=[s.AnalyticsQuerySerializer],
        responses={200: s.AnalyticsUsageSerializer, 403: FORBIDDEN},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        user, period = subject_and_period(request)
        body = {**header(user, period), **selectors.usage_summary(user, period)}
        return Response(s.AnalyticsUsageSerializer(body).data)


class WorkflowsView(GenericAPIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "analytics:read"}
    pagination_class = PagePagination
    serializer_class = s.AnalyticsWorkflowSerializer
    filter_backends: list = []

    @extend_schema(
        summary="Runs per workflow over a period: counts, success rate, average duration",
        parameters=[s.AnalyticsQuerySerializer],
        responses={200: s.AnalyticsWorkflowSerializer(many=True), 403: FORBIDDEN},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        user, period = subject_and_period(request)
        page = self.paginate_queryset(selectors.workflow_usage(user, period))
        return self.get_paginated_response(s.AnalyticsWorkflowSerializer(page, many=True).data)


class CostsView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "analytics:read"}

    @extend_schema(
        summary="LLM tokens and cost per provider and model over a period",
        parameters=[s.AnalyticsQuerySerializer],
        responses={200: s.AnalyticsCostsSerializer, 403: FORBIDDEN},
        tags=["analytics"],
    )
    def get(self, request: Request) -> Response:
        user, period = subject_and_period(request)
        body = {**header(user, period), **selectors.ai_usage(user, period)}
        return Response(s.AnalyticsCostsSerializer(body).data)
