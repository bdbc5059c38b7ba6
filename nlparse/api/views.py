"""``POST /test/parse``: a draft workflow from a description."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, OpenApiResponse, extend_schema
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasApiPermission
from nlparse import services
from nlparse.api import serializers as s


class ParseView(APIView):
    permission_classes = [HasApiPermission]
    required_permissions = {"POST": "workflow:create"}

    @extend_schema(
        tags=["testing"],
        summary="Draft a workflow from a plain-English description",
        description=(
            "Understands a trigger ('every weekday at 9am Paris time', 'when a webhook is received', 'when I run "
            "it'), steps joined by 'then', commas or numbered lines (fetch/POST a URL, e-mail, Slack, wait, "
            "approval, LLM), conditions ('if the status is 500 …, otherwise …') and loops ('for each item in …'). "
            "Nothing is saved. Words it did not understand become warnings with their character positions; "
            "422 if no step could be understood."
        ),
        request=s.ParseInputSerializer,
        responses={
            200: s.ParseResultSerializer,
            422: OpenApiResponse(description="Nothing in the text could be turned into a step"),
        },
        examples=[
            OpenApiExample(
                "Schedule, fetch, branch",
                request_only=True,
                value={
                    "text": "Every weekday at 9am Paris time, fetch https://api.example.com/status, then if the "
                    "status is 500 email ops@example.com with subject 'API down', otherwise post to Slack."
                },
            )
        ],
    )
    def post(self, request: Request) -> Response:
        data = s.ParseInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        result = services.text_parse(text=data.validated_data["text"], user=request.user)
        return Response(s.ParseResultSerializer(result.as_dict()).data)
