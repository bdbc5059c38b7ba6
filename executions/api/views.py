"""Execution API: thin views over :mod:`executions.services` and :mod:`executions.selectors`.

Access to a run is access to its workflow: invisible workflows' runs are 404s;
each action needs its permission both from the caller's roles (narrowed by an
API key's scopes) and from their relation to the workflow (owner or share
role), else 403.
"""

from __future__ import annotations

from typing import Any

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    extend_schema_view,
)
from rest_framework import generics, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import granted_permissions
from accounts.permissions import HasApiPermission
from executions import selectors, services
from executions.api import serializers as s
from executions.models import Execution, ExecutionLog
from flowbuilder.api.errors import ValidationFailed
from flowbuilder.api.filters import KnownQueryParameters, StrictOrderingFilter, UtcIsoDateTimeFilter
from workflows.access import workflow_for
from workflows.models import Workflow

UUID_REGEX = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"

IDEMPOTENCY_HEADER = OpenApiParameter(
    "Idempotency-Key",
    str,
    OpenApiParameter.HEADER,
    required=False,
    description="At most 255 characters. Repeating a key on this workflow returns the run it started (200).",
)
FORBIDDEN = OpenApiResponse(description="Your roles or your access to the workflow do not allow this")
CONFLICT = OpenApiResponse(description="The run is not in a state that allows this")
TOO_LARGE = OpenApiResponse(description="input_data is over the 1 MB limit")
EXECUTE_RESULT = PolymorphicProxySerializer(
    component_name="ExecuteResult",
    serializers=[s.ExecutionDetailSerializer, s.ExecutionAcceptedSerializer],
    resource_type_field_name=None,
)


def visible_workflow(request: Request, workflow_id: Any, needed: str) -> Workflow:
    return workflow_for(request.user, workflow_id, granted=granted_permissions(request), needed=needed)


def detail_response(execution_id: Any, http_status: int = status.HTTP_200_OK) -> Response:
    return run_response(selectors.execution_detail(execution_id), http_status)


def run_response(execution: Execution, http_status: int = status.HTTP_200_OK) -> Response:
    """The full run (as ``execution_detail`` loads it) with its steps."""
    execution.ordered_steps = selectors.execution_steps(execution)
    return Response(s.ExecutionDetailSerializer(execution).data, status=http_status)


def accepted_response(execution: Execution, *, created: bool = True) -> Response:
    """202 for a run just started; 200 (and ``Idempotent-Replayed``) for one an idempotency key found."""
    response = Response(
        s.ExecutionAcceptedSerializer(execution).data,
        status=status.HTTP_202_ACCEPTED if created else status.HTTP_200_OK,
    )
    if not created:
        response["Idempotent-Replayed"] = "true"
    return response


def idempotency_key(request: Request) -> str | None:
    key = request.headers.get("Idempotency-Key", "").strip()
    if len(key) > s.IDEMPOTENCY_KEY_MAX_LENGTH:
        raise ValidationFailed(
            f"Idempotency-Key is at most {s.IDEMPOTENCY_KEY_MAX_LENGTH} characters", field="Idempotency-Key"
        )
    return key or None


def wait_and_respond(execution: Execution, *, created: bool) -> Response:
    """The sync answer: the full run if it ends within the bound, else the short 202 (200 if replayed)."""
    if execution.is_finished:  # it ran to its end in the request (inline nodes only)
        return detail_response(execution.pk)
    execution = selectors.execution_wait(execution.pk, settings.FLOWBUILDER_SYNC_WAIT_SECONDS)
    if execution.is_finished:
        return run_response(execution)
    return accepted_response(execution, created=created)


class StatusFilter(django_filters.MultipleChoiceFilter):
    """Run statuses; ``succeeded`` is kept as an alias of ``completed`` for clients written before the rename."""

    ALIASES = {"succeeded": Execution.Status.COMPLETED}

    def __init__(self, **kwargs: Any) -> None:
        choices = [
            *Execution.Status.choices,
            *((alias, f"{alias} (alias of {to})") for alias, to in self.ALIASES.items()),
        ]
        super().__init__(choices=choices, **kwargs)

    def filter(self, qs: QuerySet[Execution], value: list[str]) -> QuerySet[Execution]:
        return super().filter(qs, [self.ALIASES.get(v, v) for v in value])


class ExecutionFilter(django_filters.FilterSet):
    workflow = django_filters.UUIDFilter(field_name="workflow_id")
    status = StatusFilter(help_text="Repeatable. `succeeded` is accepted as an alias of `completed`.")
    trigger = django_filters.ChoiceFilter(choices=Execution.Trigger.choices)
    mode = django_filters.ChoiceFilter(choices=Execution.Mode.choices)
    started_after = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this ISO 8601 time."
    )
    started_before = UtcIsoDateTimeFilter(
        field_name="created_at", lookup_expr="lte", help_text="Created at or before this ISO 8601 time."
    )
    parent = django_filters.UUIDFilter(field_name="parent_id", help_text="Child runs of this run.")
    top_level = django_filters.ChoiceFilter(
        choices=[("true", "true"), ("false", "false")],
        method="filter_top_level",
        help_text="`true`: only runs without a parent; `false`: only child runs.",
    )

    class Meta:
        model = Execution
        fields: list[str] = []  # all declared above

    def filter_top_level(self, queryset: QuerySet[Execution], name: str, value: str) -> QuerySet[Execution]:
        return queryset.filter(parent__isnull=value == "true")


class WorkflowExecutionFilter(ExecutionFilter):
    workflow = None  # the path names it


class ExecutionListMixin:
    # Filtering and ordering shared by every list of runs.

    filterset_class = ExecutionFilter
    filter_backends = [KnownQueryParameters, django_filters.rest_framework.DjangoFilterBackend, StrictOrderingFilter]
    ordering_fields = ["created_at", "started_at", "completed_at"]
    ordering = ["-created_at"]


@extend_schema_view(
    list=extend_schema(summary="Runs of the workflows you can see"),
    retrieve=extend_schema(
        summary="A run with its steps (in definition order)",
        responses={200: s.ExecutionDetailSerializer, 403: FORBIDDEN},
    ),
)
@extend_schema(tags=["executions"])
class ExecutionViewSet(ExecutionListMixin, viewsets.ReadOnlyModelViewSet):
    """Runs: read them, follow their logs, cancel, retry or rerun them, decide their approvals."""

    permission_classes = [HasApiPermission]
    # Needed from the caller's roles, and (object-level) from their relation to the run's workflow.
    required_permissions = {
        "list": "execution:read",
        "retrieve": "execution:read",
        "logs": "log:read",
        "cancel": "execution:cancel",
        "retry": "workflow:execute",
        "rerun": "workflow:execute",
        # Approvals: whoever may decide them on the run; approval_decide checks they are an approver.
        "approve": "execution:approve",
        "reject": "execution:approve",
    }
    queryset = Execution.objects.none()
    serializer_class = s.ExecutionListSerializer
    lookup_value_regex = UUID_REGEX

    def get_queryset(self) -> QuerySet[Execution]:
        if getattr(self, "swagger_fake_view", False):
            return Execution.objects.none()
        return selectors.execution_list(self.request.user)

    def get_object(self) -> Execution:
        return selectors.execution_for(
            self.request.user,
            self.kwargs["pk"],
            granted=granted_permissions(self.request),
            needed=self.required_permissions[self.action],
        )

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        execution = self.get_object()
        execution.ordered_steps = selectors.execution_steps(execution)
        return Response(s.ExecutionDetailSerializer(execution).data)

    @extend_schema(
        summary="A run's log lines, oldest first",
        parameters=[
            OpenApiParameter("level", str, enum=ExecutionLog.Level.values, required=False),
            OpenApiParameter("node_id", str, required=False, description="Only this step's lines."),
        ],
        responses={200: s.ExecutionLogSerializer(many=True), 403: FORBIDDEN},
    )
    @action(detail=True, methods=["get"], filter_backends=[], filterset_class=None)
    def logs(self, request: Request, pk: str) -> Response:
        execution = self.get_object()
        queryset = selectors.execution_logs(execution)
        level = request.query_params.get("level")
        if level:
            if level not in ExecutionLog.Level.values:
                raise ValidationFailed(
                    f"'{level}' is not a log level; use one of {', '.join(ExecutionLog.Level.values)}", field="level"
                )
            queryset = queryset.filter(level=level)
        node_id = request.query_params.get("node_id")
        if node_id:
            queryset = queryset.filter(node_id=node_id)
        page = self.paginate_queryset(queryset)
        return self.get_paginated_response(s.ExecutionLogSerializer(page, many=True).data)

    @extend_schema(
        summary="Cancel a run",
        request=None,
        responses={200: s.ExecutionDetailSerializer, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def cancel(self, request: Request, pk: str) -> Response:
        execution = services.execution_cancel(execution=self.get_object(), reason=f"Cancelled by {request.user.email}")
        return detail_response(execution.pk)

    @extend_schema(
        summary="Run a failed, cancelled or timed-out run again from its failed steps",
        description="What succeeded is reused, not run again. Answers the new run.",
        request=None,
        responses={202: s.ExecutionAcceptedSerializer, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"])
    def retry(self, request: Request, pk: str) -> Response:
        execution = services.execution_retry(execution=self.get_object(), actor=request.user)
        return accepted_response(execution)

    @extend_schema(
        summary="A fresh run of the workflow's current version with the same input",
        request=None,
        responses={202: s.ExecutionAcceptedSerializer, 403: FORBIDDEN, 413: TOO_LARGE},
    )
    @action(detail=True, methods=["post"])
    def rerun(self, request: Request, pk: str) -> Response:
        execution = services.execution_rerun(execution=self.get_object(), actor=request.user)
        return accepted_response(execution)

    def _decide(self, request: Request, node_id: str, *, approved: bool) -> Response:
        execution = self.get_object()
        data = s.DecisionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        services.approval_decide(
            execution=execution,
            node_id=node_id,
            actor=request.user,
            approved=approved,
            comment=data.validated_data["comment"],
        )
        return detail_response(execution.pk)

    @extend_schema(
        summary="Approve a waiting approval step",
        request=s.DecisionInputSerializer,
        responses={200: s.ExecutionDetailSerializer, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<node_id>[^/]+)/approve")
    def approve(self, request: Request, pk: str, node_id: str) -> Response:
        return self._decide(request, node_id, approved=True)

    @extend_schema(
        summary="Reject a waiting approval step",
        request=s.DecisionInputSerializer,
        responses={200: s.ExecutionDetailSerializer, 403: FORBIDDEN, 409: CONFLICT},
    )
    @action(detail=True, methods=["post"], url_path=r"steps/(?P<node_id>[^/]+)/reject")
    def reject(self, request: Request, pk: str, node_id: str) -> Response:
        return self._decide(request, node_id, approved=False)


@extend_schema(tags=["executions"])
class WorkflowExecutionListView(ExecutionListMixin, generics.ListAPIView):
    """Runs of one workflow (also at `/workflows/{id}/runs`)."""

    filterset_class = WorkflowExecutionFilter
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "execution:read"}
    serializer_class = s.ExecutionListSerializer
    queryset = Execution.objects.none()

    def get_queryset(self) -> QuerySet[Execution]:
        if getattr(self, "swagger_fake_view", False):
            return Execution.objects.none()
        workflow = visible_workflow(self.request, self.kwargs["workflow_id"], "execution:read")
        return selectors.execution_list(self.request.user, workflow=workflow)

    @extend_schema(
        summary="Runs of one workflow", responses={200: s.ExecutionListSerializer(many=True), 403: FORBIDDEN}
    )
    def get(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return super().get(request, *args, **kwargs)


@extend_schema(tags=["executions"])
class WorkflowExecuteView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"POST": "workflow:execute"}

    @extend_schema(
        summary="Run a workflow",
        description=(
            "`async` answers 202 with the new run at once. `sync` waits up to "
            "FLOWBUILDER_SYNC_WAIT_SECONDS: 200 with the full run if it ended, else 202 with the short body. "
            "A repeated `Idempotency-Key` answers the run it started with 200 (header `Idempotent-Replayed: true`), "
            "the full run if `sync` and it has ended."
        ),
        parameters=[IDEMPOTENCY_HEADER],
        request=s.ExecuteInputSerializer,
        responses={
            202: s.ExecutionAcceptedSerializer,
            200: OpenApiResponse(EXECUTE_RESULT, description="A sync run that ended, or a replayed Idempotency-Key"),
            403: FORBIDDEN,
            413: TOO_LARGE,
        },
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = visible_workflow(request, workflow_id, "workflow:execute")
        key = idempotency_key(request)
        data = s.ExecuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        execution, created = services.execution_start(
            workflow=workflow,
            input_data=data.validated_data["input_data"],
            actor=request.user,
            idempotency_key=key,
            webhook_url=data.validated_data.get("webhook_url", ""),
            start_here=data.validated_data["mode"] == "sync",
        )
        if data.validated_data["mode"] == "sync":
            return wait_and_respond(execution, created=created)
        return accepted_response(execution, created=created)


@extend_schema(tags=["testing"])
class TestExecuteView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"POST": "workflow:execute"}

    @extend_schema(
        summary="Dry-run a workflow",
        description=(
            "Side-effecting nodes are simulated, approvals approved and delays skipped. Waits like `sync` mode: "
            "200 with the full run, or 202 with the short body if it has not ended within the bound."
        ),
        request=s.TestExecuteInputSerializer,
        responses={
            200: s.ExecutionDetailSerializer,
            202: s.ExecutionAcceptedSerializer,
            403: FORBIDDEN,
            413: TOO_LARGE,
        },
    )
    def post(self, request: Request, workflow_id: str) -> Response:
        workflow = visible_workflow(request, workflow_id, "workflow:execute")
        data = s.TestExecuteInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        execution, created = services.execution_start(
            workflow=workflow,
            input_data=data.validated_data["trigger_data"],
            actor=request.user,
            trigger=Execution.Trigger.TEST,
            mode=Execution.Mode.DRY_RUN,
        )
        return wait_and_respond(execution, created=created)
