"""Credentials, integrations and the AI gateway: thin views over services, selectors and the gateway."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasApiPermission
from integrations import credential_types, gateway, probes, selectors, services
from integrations.api import serializers as s
from integrations.models import Credential, Integration

UNAVAILABLE = OpenApiResponse(description="No AI provider is configured, or it failed")


@extend_schema_view(
    list=extend_schema(summary="Your credentials (never their data: a masked hint only)"),
    retrieve=extend_schema(summary="A credential (never its data: a masked hint only)"),
    destroy=extend_schema(summary="Delete a credential; nodes that use it fail with 'Credential not found'"),
)
@extend_schema(tags=["credentials"])
class CredentialViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    permission_classes = [HasApiPermission]
    required_permissions = {
        "list": "credential:read",
        "retrieve": "credential:read",
        "create": "credential:write",
        "partial_update": "credential:write",
        "destroy": "credential:write",
        "test": "credential:write",
    }
    serializer_class = s.CredentialSerializer
    queryset = Credential.objects.none()
    filterset_fields = ["type"]  # ?type=http_bearer
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Credential]:
        if getattr(self, "swagger_fake_view", False):
            return Credential.objects.none()
        return selectors.credential_list(self.request.user)

    def get_object(self) -> Credential:
        return selectors.credential_get(user=self.request.user, credential_id=self.kwargs["pk"])

    @extend_schema(request=s.CredentialInputSerializer, responses={201: s.CredentialSerializer})
    def create(self, request: Request) -> Response:
        data = s.CredentialInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_create(owner=request.user, **data.validated_data)
        return Response(s.CredentialSerializer(credential).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.CredentialUpdateSerializer, responses={200: s.CredentialSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        credential = self.get_object()
        data = s.CredentialUpdateSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        credential = services.credential_update(credential=credential, **data.validated_data)
        return Response(s.CredentialSerializer(credential).data)

    def perform_destroy(self, instance: Credential) -> None:
        services.credential_delete(credential=instance)

    @extend_schema(
        summary="Check the credential against its service",
        description=probes.__doc__,
        request=s.CredentialTestInputSerializer,
        responses={200: s.CredentialTestResultSerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        credential = self.get_object()
        data = s.CredentialTestInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = probes.credential_test(credential=credential, post=data.validated_data["post"])
        return Response(s.CredentialTestResultSerializer(result).data)


@extend_schema_view(
    list=extend_schema(summary="Your connected services"),
    retrieve=extend_schema(summary="A connected service"),
    destroy=extend_schema(summary="Delete a connected service (its credential stays)"),
)
@extend_schema(tags=["integrations"])
class IntegrationViewSet(
    mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.DestroyModelMixin, viewsets.GenericViewSet
):
    permission_classes = [HasApiPermission]
    required_permissions = {
        "list": "credential:read",
        "retrieve": "credential:read",
        "create": "credential:write",
        "partial_update": "credential:write",
        "destroy": "credential:write",
    }
    serializer_class = s.IntegrationSerializer
    queryset = Integration.objects.none()
    lookup_value_regex = "[^/]+"

    def get_queryset(self) -> QuerySet[Integration]:
        if getattr(self, "swagger_fake_view", False):
            return Integration.objects.none()
        return selectors.integration_list(self.request.user)

    def get_object(self) -> Integration:
        return selectors.integration_get(user=self.request.user, integration_id=self.kwargs["pk"])

    @extend_schema(request=s.IntegrationInputSerializer, responses={201: s.IntegrationSerializer})
    def create(self, request: Request) -> Response:
        data = s.IntegrationInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        integration = services.integration_create(
            owner=request.user, credential_id=fields.pop("credential", None), **fields
        )
        return Response(s.IntegrationSerializer(integration).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=s.IntegrationInputSerializer(partial=True), responses={200: s.IntegrationSerializer})
    def partial_update(self, request: Request, pk: str) -> Response:
        integration = self.get_object()
        data = s.IntegrationInputSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields: dict[str, Any] = dict(data.validated_data)
        if "credential" in fields:
            fields["credential_id"] = fields.pop("credential")
        integration = services.integration_update(integration=integration, **fields)
        return Response(s.IntegrationSerializer(integration).data)

    def perform_destroy(self, instance: Integration) -> None:
        services.integration_delete(integration=instance)


class CredentialTypeListView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "credential:read"}

    @extend_schema(
        summary="The credential types and the JSON Schema of each one's data (to build forms from)",
        responses={200: s.CredentialTypeSerializer(many=True)},
        tags=["credentials"],
    )
    def get(self, request: Request) -> Response:
        types = [
            {"type": t.name, "label": t.label, "schema": t.schema, "secret_fields": list(t.secret_fields)}
            for t in credential_types.TYPES.values()
        ]
        return Response(s.CredentialTypeSerializer(types, many=True).data)


class AIView(APIView):
    """One gateway call: validate with ``input_serializer``, call ``service``, answer ``result_serializer``."""

    permission_classes = [HasApiPermission]
    required_permissions = {"POST": "workflow:execute"}
    input_serializer: type
    result_serializer: type
    service: Any

    def post(self, request: Request) -> Response:
        data = self.input_serializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = type(self).service(user=request.user, **data.validated_data)
        return Response(self.result_serializer(result).data)


def _ai_schema(summary: str, request: type, result: type) -> Any:
    return extend_schema_view(
        post=extend_schema(summary=summary, request=request, responses={200: result, 503: UNAVAILABLE}, tags=["ai"])
    )


@_ai_schema(
    "Chat with a model of your (or the server's) OpenAI-compatible provider",
    s.AIChatInputSerializer,
    s.AIChatResultSerializer,
)
class AIChatView(AIView):
    input_serializer, result_serializer = s.AIChatInputSerializer, s.AIChatResultSerializer
    service = gateway.ai_chat


@_ai_schema("Generate images (OpenAI images API)", s.AIImageGenerateInputSerializer, s.AIImageGenerateResultSerializer)
class AIImageGenerateView(AIView):
    input_serializer, result_serializer = s.AIImageGenerateInputSerializer, s.AIImageGenerateResultSerializer
    service = gateway.ai_image_generate


@_ai_schema("Ask a vision model about an image", s.AIImageAnalyzeInputSerializer, s.AIImageAnalyzeResultSerializer)
class AIImageAnalyzeView(AIView):
    input_serializer, result_serializer = s.AIImageAnalyzeInputSerializer, s.AIImageAnalyzeResultSerializer
    service = gateway.ai_image_analyze
