"""Workflow API: thin views over :mod:`workflows.services` and :mod:`workflows.selectors`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import granted_permissions
from accounts.permissions import HasApiPermission
from executions.engine import registry
from flowbuilder.api.errors import Forbidden
from flowbuilder.api.filters import KnownQueryParameters, StrictOrderingFilter
from workflows import selectors, services
from workflows.access import workflow_detail, workflow_for
from workflows.api import serializers as s
from workflows.models import Workflow


class WorkflowFilter(django_filters.FilterSet):
    category = django_filters.CharFilter()
    is_active = django_filters.BooleanFilter()
    tag = django_filters.CharFilter(field_name="tags__name", method="filter_tag")

    class Meta:
        model = Workflow
        fields = ["category", "is_active", "tag"]

    def filter_tag(self, queryset: QuerySet[Workflow], name: str, value: str) -> QuerySet[Workflow]:
        return queryset.filter(tags__name=value.strip().lower())


@extend_schema_view(
    list=extend_schema(summary="List workflows you own or that are shared with you"),
    retrieve=extend_schema(summary="A workflow with its definition, trigger and execution stats"),
    destroy=extend_schema(summary="Delete a workflow with its versions and runs"),
)
@extend_schema(tags=["workflows"])
class WorkflowViewSet(viewsets.ModelViewSet):
    permission_classes = [HasApiPermission]
    required_permissions = {
        "list": "workflow:read",
        "retrieve": "workflow:read",
        "create": "workflow:create",
        "update": "workflow:update",
        "partial_update": "workflow:update",
        "destroy": "workflow:delete",
        "validate": "workflow:read",
        "versions": "workflow:read",
        "version_detail": "workflow:read",
        "version_restore": "workflow:update",
        "export": "workflow:read",
        "import_workflow": "workflow:create",
        "shares.GET": "workflow:read",
        "shares.POST": "workflow:update",  # and only the owner (below)
        "unshare": "workflow:update",
        "webhook_regenerate": "workflow:update",
    }
    # Object-level: what the caller's relation to the workflow must allow.
    object_permissions = {
        "retrieve": "workflow:read",
        "update": "workflow:update",
        "partial_update": "workflow:update",
        "destroy": "workflow:delete",
        "versions": "workflow:read",
        "version_detail": "workflow:read",
        "version_restore": "workflow:update",
        "export": "workflow:read",
        "webhook_regenerate": "workflow:update",
    }
    filterset_class = WorkflowFilter
    filter_backends = [
        KnownQueryParameters,
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StrictOrderingFilter,
    ]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "created_at", "updated_at", "execution_count", "last_execution_at", "category"]
    ordering = ["-updated_at"]
    queryset = Workflow.objects.none()
    serializer_class = s.WorkflowListSerializer
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> QuerySet[Workflow]:
        if getattr(self, "swagger_fake_view", False):
            return Workflow.objects.none()
        return selectors.workflow_list(self.request.user)

    def get_serializer_class(self) -> type:
        return s.WorkflowListSerializer if self.action == "list" else s.WorkflowDetailSerializer

    def get_object(self) -> Workflow:
        workflow = workflow_for(
            self.request.user,
            self.kwargs[self.lookup_url_kwarg or self.lookup_field],
            granted=granted_permissions(self.request),
            needed=self.object_permissions.get(self.action or ""),
            queryset=self.get_queryset(),
        )
        self.workflow_permissions = workflow.permissions
        return workflow

    def _detail(
        self, workflow: Workflow, *, http_status: int = status.HTTP_200_OK, warnings: list | None = None
    ) -> Response:
        workflow = workflow_detail(
            self.request.user,
            workflow.pk,
            granted=granted_permissions(self.request),
            base_url=self.request.build_absolute_uri("/"),
        )
        if warnings is not None:
            workflow.validation_warnings = warnings
            serializer = s.WorkflowCreatedSerializer(workflow)
        else:
            serializer = s.WorkflowDetailSerializer(workflow)
        return Response(serializer.data, status=http_status)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    @extend_schema(request=s.WorkflowInputSerializer, responses={201: s.WorkflowCreatedSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.WorkflowInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        fields.pop("version", None)
        workflow = services.workflow_create(owner=request.user, **fields)
        return self._detail(workflow, http_status=status.HTTP_201_CREATED, warnings=workflow.validation_warnings)

    @extend_schema(
        request=s.WorkflowInputSerializer,
        responses={200: s.WorkflowDetailSerializer, 409: OpenApiResponse(description="Stale version")},
    )
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        workflow = self.get_object()
        data = s.WorkflowInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        expected = fields.pop("version", None)
        workflow = services.workflow_update(workflow=workflow, actor=request.user, expected_version=expected, **fields)
        return self._detail(workflow)

    def perform_destroy(self, instance: Workflow) -> None:
        services.workflow_delete(workflow=instance)

    @extend_schema(request=s.DefinitionInputSerializer, responses={200: s.ValidationResultSerializer})
    @action(detail=False, methods=["post"])
    def validate(self, request: Request) -> Response:
        """Every problem of a definition at once; 200 whether it is valid or not."""
        data = s.DefinitionInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        report = services.definition_validate(definition=data.validated_data["definition"], owner=request.user)
        body = {
            "valid": report.valid,
            "errors": report.errors,
            "warnings": report.warnings,
            "definition": report.definition,
        }
        return Response(s.ValidationResultSerializer(body).data)

    @extend_schema(responses={200: s.WorkflowVersionSerializer(many=True)})
    @action(detail=True, methods=["get"])
    def versions(self, request: Request, pk: str) -> Response:
        workflow = self.get_object()
        page = self.paginate_queryset(selectors.workflow_versions(workflow))
        return self.get_paginated_response(s.WorkflowVersionSerializer(page, many=True).data)

    @extend_schema(responses={200: s.WorkflowVersionDetailSerializer})
    @action(detail=True, methods=["get"], url_path=r"versions/(?P<number>[0-9]+)")
    def version_detail(self, request: Request, pk: str, number: str) -> Response:
        version = selectors.workflow_version(self.get_object(), int(number))
        return Response(s.WorkflowVersionDetailSerializer(version).data)

    @extend_schema(request=None, responses={200: s.WorkflowDetailSerializer})
    @action(detail=True, methods=["post"], url_path=r"versions/(?P<number>[0-9]+)/restore")
    def version_restore(self, request: Request, pk: str, number: str) -> Response:
        workflow = services.workflow_version_restore(workflow=self.get_object(), number=int(number), actor=request.user)
        return self._detail(workflow)

    @extend_schema(responses={200: s.ExportSerializer})
    @action(detail=True, methods=["get"])
    def export(self, request: Request, pk: str) -> Response:
        workflow = self.get_object()
        response = Response(selectors.workflow_export(workflow))
        response["Content-Disposition"] = f'attachment; filename="workflow-{workflow.pk}.json"'
        return response

    @extend_schema(request=s.ImportInputSerializer, responses={201: s.WorkflowCreatedSerializer})
    @action(detail=False, methods=["post"], url_path="import")
    def import_workflow(self, request: Request) -> Response:
        data = s.ImportInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow, warnings = services.workflow_import(
            owner=request.user,
            payload=data.validated_data["data"],
            name=data.validated_data.get("name"),
            is_active=data.validated_data["is_active"],
        )
        return self._detail(workflow, http_status=status.HTTP_201_CREATED, warnings=warnings)

    @extend_schema(
        request=None,
        responses={200: s.WorkflowDetailSerializer, 409: OpenApiResponse(description="The trigger is not a webhook")},
        summary="Give the webhook a new secret URL",
        description="The old URL answers 404 at once. Owners and editors only.",
    )
    @action(detail=True, methods=["post"], url_path="webhook/regenerate")
    def webhook_regenerate(self, request: Request, pk: str) -> Response:
        workflow = services.workflow_webhook_regenerate(workflow=self.get_object())
        return self._detail(workflow)

    @extend_schema(
        methods=["GET"], responses={200: s.ShareSerializer(many=True)}, summary="Users this workflow is shared with"
    )
    @extend_schema(methods=["POST"], request=s.ShareInputSerializer, responses={201: s.ShareSerializer})
    @action(detail=True, methods=["get", "post"], filter_backends=[], filterset_class=None)
    def shares(self, request: Request, pk: str) -> Response:
        workflow = self.get_object()
        if request.method == "POST":
            self._require_owner(workflow)
            data = s.ShareInputSerializer(data=request.data)
            data.is_valid(raise_exception=True)
            share = services.workflow_share(workflow=workflow, **data.validated_data)
            return Response(s.ShareSerializer(share).data, status=status.HTTP_201_CREATED)
        page = self.paginate_queryset(selectors.workflow_shares(workflow))
        return self.get_paginated_response(s.ShareSerializer(page, many=True).data)

    @extend_schema(request=None, responses={204: OpenApiResponse(description="No longer shared")})
    @action(detail=True, methods=["delete"], url_path=r"shares/(?P<user_id>[0-9a-fA-F-]{36})")
    def unshare(self, request: Request, pk: str, user_id: str) -> Response:
        workflow = self.get_object()
        self._require_owner(workflow)
        services.workflow_unshare(workflow=workflow, user_id=user_id)
        return Response(status=status.HTTP_204_NO_CONTENT)

    def _require_owner(self, workflow: Workflow) -> None:
        if workflow.owner_id != self.request.user.pk:
            raise Forbidden("Only the owner can change who a workflow is shared with")


class NodeTypeListView(APIView):
    """The node catalog the editor builds itself from."""

    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "workflow:read"}

    @extend_schema(
        responses={200: s.NodeTypeSerializer(many=True)},
        parameters=[OpenApiParameter("category", str, required=False)],
        tags=["workflows"],
    )
    def get(self, request: Request) -> Response:
        items = registry.catalog(category=request.query_params.get("category"))
        return Response(s.NodeTypeSerializer(items, many=True).data)
