"""File API: thin views over :mod:`files.services` and :mod:`files.selectors`; only the owner sees a file."""

from __future__ import annotations

import django_filters
from django.conf import settings
from django.db.models import QuerySet
from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import filters, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.request import Request
from rest_framework.response import Response

from accounts.authentication import granted_permissions
from accounts.permissions import HasApiPermission
from files import selectors, services
from files.api import serializers as s
from files.errors import FileTooLarge
from files.models import StoredFile
from files.storage import file_storage
from files.uploads import SizeLimitUploadHandler
from flowbuilder.api.filters import KnownQueryParameters, StrictOrderingFilter

UUID_REGEX = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
TOO_LARGE = OpenApiResponse(description="Over the size limit or the storage quota")


class FileFilter(django_filters.FilterSet):
    category = django_filters.ChoiceFilter(choices=StoredFile.Category.choices)
    status = django_filters.ChoiceFilter(choices=StoredFile.Status.choices)

    class Meta:
        model = StoredFile
        fields = ["category", "status"]


def _base_url(request: Request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@extend_schema_view(
    list=extend_schema(summary="Your files"),
    retrieve=extend_schema(summary="A file's metadata and processing result"),
    destroy=extend_schema(summary="Delete a file and its stored bytes"),
)
@extend_schema(tags=["files"])
class FileViewSet(viewsets.mixins.ListModelMixin, viewsets.mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Upload files, download them, run workflows on them. Another user's file is a 404."""

    permission_classes = [HasApiPermission]
    # Files are the caller's own; running a workflow on one needs the right to run it.
    required_permissions = {
        "list": "file:read",
        "retrieve": "file:read",
        "download": "file:read",
        "upload": "file:write",
        "destroy": "file:write",
        "process": "workflow:execute",
    }
    serializer_class = s.FileSerializer
    queryset = StoredFile.objects.none()
    filterset_class = FileFilter
    filter_backends = [
        KnownQueryParameters,
        django_filters.rest_framework.DjangoFilterBackend,
        filters.SearchFilter,
        StrictOrderingFilter,
    ]
    search_fields = ["name", "description"]
    ordering_fields = ["created_at", "size", "name"]
    ordering = ["-created_at"]
    lookup_value_regex = UUID_REGEX

    def get_queryset(self) -> QuerySet[StoredFile]:
        if getattr(self, "swagger_fake_view", False):
            return StoredFile.objects.none()
        return selectors.files_of(self.request.user)

    def get_object(self) -> StoredFile:
        return selectors.file_get(self.request.user, self.kwargs["pk"])

    def destroy(self, request: Request, pk: str) -> Response:
        services.file_delete(stored=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Upload a file",
        description=(
            "Multipart. The content type is sniffed from the bytes (the declared one is kept as "
            "`declared_content_type`), the category derived from it, the name made safe. "
            f"413 over FLOWBUILDER_FILE_MAX_BYTES (default {settings.FLOWBUILDER_FILE_MAX_BYTES:,}) "
            "or over your storage quota. With `process_immediately` the workflow starts at once."
        ),
        request={"multipart/form-data": s.UploadInputSerializer},
        responses={201: s.FileSerializer, 413: TOO_LARGE},
    )
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser, FormParser])
    def upload(self, request: Request) -> Response:
        limiter = SizeLimitUploadHandler(settings.FLOWBUILDER_FILE_MAX_BYTES, request._request)
        request._request.upload_handlers.insert(0, limiter)
        data = s.UploadInputSerializer(data=request.data)
        if limiter.exceeded:
            limit = settings.FLOWBUILDER_FILE_MAX_BYTES
            raise FileTooLarge(f"The file is over the limit of {limit:,} bytes", field="file")
        data.is_valid(raise_exception=True)
        fields = data.validated_data
        workflow = None
        if fields.get("workflow_id"):
            workflow = services.processing_workflow(
                user=request.user, workflow_id=fields["workflow_id"], granted=granted_permissions(request)
            )
        stored = services.file_upload(
            owner=request.user,
            upload=fields["file"],
            description=fields["description"],
            workflow=workflow,
            process_immediately=fields["process_immediately"],
            base_url=_base_url(request),
        )
        return Response(s.FileSerializer(stored, context={"request": request}).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Download a file",
        description="Streamed with its sniffed content type (`image/png`, `text/csv`, … or "
        "`application/octet-stream`), as an attachment under its safe name.",
        responses={(200, "*/*"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"])
    def download(self, request: Request, pk: str) -> FileResponse:
        stored = self.get_object()
        response = FileResponse(
            file_storage().open(stored.key, "rb"),
            as_attachment=True,
            filename=stored.name,
            content_type=stored.content_type,
        )
        response["Content-Length"] = str(stored.size)
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        return response

    @extend_schema(
        summary="Run a workflow on a file",
        description=(
            "Runs `workflow_id` (else the file's linked workflow) with `input_data` plus `file`: the file's "
            "reference {id, name, content_type, category, size, download_url}. The file's status goes to "
            "`processing`, then `processed` or `failed` with `processing_result` when the run ends."
        ),
        request=s.ProcessInputSerializer,
        responses={202: s.FileSerializer, 409: OpenApiResponse(description="Already being processed")},
    )
    @action(detail=True, methods=["post"])
    def process(self, request: Request, pk: str) -> Response:
        stored = self.get_object()
        data = s.ProcessInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        workflow = None
        if data.validated_data.get("workflow_id"):
            workflow = services.processing_workflow(
                user=request.user, workflow_id=data.validated_data["workflow_id"], granted=granted_permissions(request)
            )
        stored = services.file_process(
            stored=stored,
            actor=request.user,
            workflow=workflow,
            input_data=data.validated_data["input_data"],
            base_url=_base_url(request),
        )
        return Response(s.FileSerializer(stored, context={"request": request}).data, status=status.HTTP_202_ACCEPTED)
