"""Template API: thin views over :mod:`templates_app.services` and :mod:`templates_app.selectors`."""

from __future__ import annotations

from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.authentication import granted_permissions
from accounts.permissions import HasApiPermission
from flowbuilder.api.errors import Forbidden
from flowbuilder.api.filters import KnownQueryParameters, StrictOrderingFilter
from templates_app import selectors, services
from templates_app.api import serializers as s
from templates_app.models import Template
from workflows.access import workflow_detail, workflow_for


class TemplateFilter(django_filters.FilterSet):
    category = django_filters.CharFilter()
    is_builtin = django_filters.BooleanFilter()
    is_active = django_filters.BooleanFilter()

    class Meta:
        model = Template
        fields = ["category", "is_builtin", "is_active"]


@extend_schema_view(
    list=extend_schema(summary="List the built-in templates and your own"),
    retrieve=extend_schema(summary="A template with its definition and parameters"),
    destroy=extend_schema(summary="Delete a template (built-in ones: staff only)"),
    partial_update=extend_schema(
        request=s.TemplateInputSerializer(partial=True), responses={200: s.TemplateDetailSerializer}
    ),
)
@extend_schema(tags=["templates"])
class TemplateViewSet(viewsets.ModelViewSet):
    permission_classes = [HasApiPermission]
    required_permissions = {
        "list": "template:read",
        "retrieve": "template:read",
        "create": "template:write",
        "update": "template:write",
        "partial_update": "template:write",
        "destroy": "template:write",
        "instantiate": "template:read",  # and workflow:create, checked in the action
    }
    filterset_class = TemplateFilter
    filter_backends = [
        KnownQueryParameters,
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StrictOrderingFilter,
    ]
    search_fields = ["name", "description"]
    ordering_fields = ["name", "category", "usage_count", "created_at", "updated_at"]
    ordering = ["category", "name"]
    queryset = Template.objects.none()
    lookup_value_regex = "[0-9a-fA-F-]{36}"

    def get_queryset(self) -> QuerySet[Template]:
        if getattr(self, "swagger_fake_view", False):
            return Template.objects.none()
        queryset = selectors.template_list(self.request.user)
        return queryset if self.action == "list" else queryset.prefetch_related("parameters")

    def get_serializer_class(self) -> type:
        return s.TemplateListSerializer if self.action == "list" else s.TemplateDetailSerializer

    def get_object(self) -> Template:
        template = super().get_object()
        if self.action in ("update", "partial_update", "destroy") and not template.editable:
            raise Forbidden("Built-in templates are read-only")
        return template

    def _detail(self, template: Template, http_status: int = status.HTTP_200_OK) -> Response:
        template = self.get_queryset().prefetch_related("parameters").get(pk=template.pk)
        return Response(
            s.TemplateDetailSerializer(template, context={"request": self.request}).data, status=http_status
        )

    @extend_schema(request=s.TemplateInputSerializer, responses={201: s.TemplateDetailSerializer})
    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = s.TemplateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        is_builtin = fields.pop("is_builtin", False)
        if is_builtin and not request.user.is_staff:
            raise Forbidden("Only staff can publish built-in templates", field="is_builtin")
        template = services.template_create(
            owner=request.user,
            is_builtin=is_builtin,
            name=fields["name"],
            description=fields.get("description", ""),
            category=fields.get("category", ""),
            definition=fields["definition"],
            parameters=s.ParameterInputSerializer.specs(fields.get("parameters", [])),
            companions=fields.get("companions", []),
            is_active=fields.get("is_active", True),
        )
        return self._detail(template, status.HTTP_201_CREATED)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        return self._detail(self.get_object())

    @extend_schema(request=s.TemplateInputSerializer, responses={200: s.TemplateDetailSerializer})
    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        template = self.get_object()
        data = s.TemplateInputSerializer(data=request.data, partial=kwargs.get("partial", False))
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "is_builtin" in fields and fields.pop("is_builtin") != template.is_builtin:
            raise Forbidden("A template cannot change between built-in and personal", field="is_builtin")
        if "parameters" in fields:
            fields["parameters"] = s.ParameterInputSerializer.specs(fields["parameters"])
        template = services.template_update(template=template, **fields)
        return self._detail(template)

    def perform_destroy(self, instance: Template) -> None:
        services.template_delete(template=instance)

    @extend_schema(
        request=s.InstantiateInputSerializer,
        responses={201: s.InstantiatedWorkflowSerializer},
        summary="Make a new workflow from the template with the given parameter values",
    )
    @action(detail=True, methods=["post"])
    def instantiate(self, request: Request, pk: str) -> Response:
        template = self.get_object()
        granted = granted_permissions(request)
        if "workflow:create" not in granted:
            raise Forbidden("Making a workflow from a template needs workflow:create")
        data = s.InstantiateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.template_instantiate(template=template, owner=request.user, **data.validated_data)
        workflow = workflow_detail(
            request.user, result.workflow.pk, granted=granted, base_url=request.build_absolute_uri("/")
        )
        workflow.validation_warnings = result.warnings
        workflow.template_id = template.pk
        workflow.companion_workflows = [
            {"key": key, "id": companion.pk, "name": companion.name} for key, companion in result.companions
        ]
        body = s.InstantiatedWorkflowSerializer(workflow).data
        return Response(body, status=status.HTTP_201_CREATED)


class SaveAsTemplateView(APIView):
    """``POST /workflows/{id}/save-as-template``: a new template of yours from a workflow you can read."""

    permission_classes = [HasApiPermission]
    required_permissions = {"POST": "template:write"}

    @extend_schema(
        request=s.SaveAsTemplateInputSerializer,
        responses={201: s.TemplateDetailSerializer, 404: OpenApiResponse(description="No such workflow")},
        tags=["templates"],
        summary="Save a workflow as a template, turning chosen values into parameters",
    )
    def post(self, request: Request, pk: Any) -> Response:
        workflow = workflow_for(request.user, pk, granted=granted_permissions(request), needed="workflow:read")
        data = s.SaveAsTemplateInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        template = services.template_from_workflow(
            workflow=workflow,
            owner=request.user,
            name=fields.get("name") or workflow.name,
            description=fields.get("description", workflow.description),
            category=fields.get("category", workflow.category),
            parameters=s.ParameterInputSerializer.specs(fields.get("parameters", [])),
            replace=fields.get("replace", []),
        )
        template = selectors.template_list(request.user).prefetch_related("parameters").get(pk=template.pk)
        body = s.TemplateDetailSerializer(template, context={"request": request}).data
        return Response(body, status=status.HTTP_201_CREATED)
