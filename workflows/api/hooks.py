"""``/hooks/<token>``: the public endpoint of webhook triggers (outside /api/v1, no auth but the token).

The view reads the request (body bounded by API_MAX_BODY_BYTES, chunked
bodies included), hands it to :func:`workflows.triggers.webhook.webhook_receive`, and
answers 202 ``{execution_id}`` or, with ``respond: when_done``, what the run
answered. Errors are the API's envelope. No CSRF (DRF views are exempt and
this one authenticates nobody), no session, no throttle but the per-token one.
"""

from __future__ import annotations

import json
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from flowbuilder.api.errors import MethodNotAllowed, PayloadTooLarge, error_json_response
from workflows.triggers import webhook

# Headers a Webhook Response node may not set: framing is the server's, cookies would land on the API's origin.
_REPLY_DROPPED_HEADERS = webhook.DROPPED_HEADERS | {"content-length", "set-cookie", "content-security-policy"}
_NO_BODY_STATUSES = {204, 304}


class WebhookAcceptedSerializer(serializers.Serializer):
    execution_id = serializers.UUIDField()


@extend_schema(
    tags=["triggers"],
    summary="Trigger a workflow through its webhook URL",
    description=(
        "Starts a run of the workflow whose webhook trigger owns `token`, with "
        "`{body, query, headers}` as its input (JSON bodies parsed, form bodies as an object, other bodies as text; "
        "the caller's Authorization, Cookie, X-Api-Key and hop-by-hop headers are dropped). Only the trigger's "
        "method is accepted. With an HMAC credential the request must carry "
        "`X-Flowbuilder-Signature: t=<unix>,v1=<hex HMAC-SHA256 of '<t>.' + body>`, at most 5 minutes old; a "
        "repeated signature or `X-Flowbuilder-Delivery` id is refused. `respond: immediately` answers 202; "
        "`when_done` waits up to the trigger's response timeout for a Webhook Response node (its status, headers "
        "and body) or the run's output (200), else answers 202. Every answer that started a run carries "
        "`X-Flowbuilder-Execution-Id`."
    ),
    auth=[],
    parameters=[
        OpenApiParameter("token", str, OpenApiParameter.PATH, description="The webhook's secret token."),
        OpenApiParameter(webhook.SIGNATURE_HEADER, str, OpenApiParameter.HEADER, required=False),
        OpenApiParameter(webhook.DELIVERY_HEADER, str, OpenApiParameter.HEADER, required=False),
    ],
    request={"*/*": OpenApiTypes.BINARY},
    responses={
        202: WebhookAcceptedSerializer,
        200: OpenApiResponse(OpenApiTypes.ANY, description="`when_done`: the Webhook Response or the run's output"),
        401: OpenApiResponse(description="Missing, malformed, old or wrong signature"),
        404: OpenApiResponse(description="Unknown token or inactive workflow"),
        405: OpenApiResponse(description="Not the trigger's method"),
        409: OpenApiResponse(description="This delivery was already received"),
        413: OpenApiResponse(description="Body over API_MAX_BODY_BYTES"),
        500: OpenApiResponse(description="`when_done`: the run failed"),
    },
)
class WebhookView(APIView):
    authentication_classes: list[type] = []
    permission_classes = [AllowAny]
    throttle_classes: list[type] = []  # the per-token limit is in webhook.rate_limit
    # HEAD and OPTIONS must not start runs (Django would answer HEAD with GET's handler).
    http_method_names = ["get", "post", "put", "patch", "delete"]

    @property
    def default_response_headers(self) -> dict[str, str]:
        # DRF would add `Allow: <every method>` and `Vary: Accept` to every answer, a Webhook Response's
        # included; a 405 says the one method the trigger takes (MethodNotAllowed's headers).
        return {}

    def http_method_not_allowed(self, request: Request, *args: Any, **kwargs: Any) -> HttpResponse:
        """HEAD, OPTIONS, TRACE…: 405 with ``Allow`` saying the trigger's method (404 for an unknown token)."""
        _, config = webhook.webhook_target(kwargs["token"])
        method = str(config["method"]).upper()
        raise MethodNotAllowed(f"This webhook accepts {method} requests, not {request.method}", allow=method)

    def get(self, request: Request, token: str) -> HttpResponse:
        return self._receive(request, token)

    def post(self, request: Request, token: str) -> HttpResponse:
        return self._receive(request, token)

    def put(self, request: Request, token: str) -> HttpResponse:
        return self._receive(request, token)

    def patch(self, request: Request, token: str) -> HttpResponse:
        return self._receive(request, token)

    def delete(self, request: Request, token: str) -> HttpResponse:
        return self._receive(request, token)

    def _receive(self, request: Request, token: str) -> HttpResponse:
        accepted = webhook.webhook_receive(token=token, request=_read(request))
        if accepted.rate is not None:
            request._request.rate_limit = accepted.rate  # X-RateLimit-* headers, as on the API
        execution, config = accepted.execution, accepted.config
        response: HttpResponse | None = None
        if config["respond"] == "when_done":
            reply = webhook.wait_for_reply(execution.pk, float(config["response_timeout_seconds"]))
            response = _reply_response(reply)
        if response is None:
            response = Response(
                WebhookAcceptedSerializer({"execution_id": execution.pk}).data, status=status.HTTP_202_ACCEPTED
            )
        response[webhook.EXECUTION_HEADER] = str(execution.pk)
        return response


def _read(request: Request) -> webhook.WebhookRequest:
    """The request as the service needs it; PayloadTooLarge past API_MAX_BODY_BYTES.

    ``Content-Length`` is checked by RequestSizeLimitMiddleware before this;
    a chunked body has none, and Django measures the body it buffered instead
    (``request.body`` raises RequestDataTooBig past DATA_UPLOAD_MAX_MEMORY_SIZE).
    """
    django_request = request._request
    try:
        body = django_request.body
    except RequestDataTooBig:
        raise PayloadTooLarge(f"Request body too large: the limit is {settings.API_MAX_BODY_BYTES} bytes") from None
    if len(body) > settings.API_MAX_BODY_BYTES:
        raise PayloadTooLarge(f"Request body too large: the limit is {settings.API_MAX_BODY_BYTES} bytes")
    return webhook.WebhookRequest(
        method=django_request.method or "GET",
        headers=dict(django_request.headers),
        query=webhook.query_dict(django_request.GET),
        body=body,
        content_type=django_request.META.get("CONTENT_TYPE", ""),
        meta=django_request.META,
    )


def _reply_response(reply: webhook.Reply) -> HttpResponse | None:
    """The answer for a ``when_done`` caller; None when the run has not answered yet (the caller gets 202)."""
    if reply.kind == "response":
        return _node_response(reply.response or {})
    if reply.kind == "finished" and reply.execution is not None:
        execution = reply.execution
        if execution.status == execution.Status.COMPLETED:
            return _json(200, execution.output_data)
        return error_json_response(500, f"The workflow run {execution.status.replace('_', ' ')}")
    return None


def _node_response(output: dict[str, Any]) -> HttpResponse:
    """A Webhook Response node's ``{status, headers, body}`` as the HTTP answer."""
    try:
        status_code = int(output.get("status", 200))
    except (TypeError, ValueError):
        status_code = 0
    if not 200 <= status_code <= 599:
        return error_json_response(500, "The Webhook Response node's status is not an HTTP status (200-599)")
    headers = {
        str(name): str(value)
        for name, value in (output.get("headers") or {}).items()
        if str(name).lower() not in _REPLY_DROPPED_HEADERS and not str(name).lower().startswith("proxy-")
    }
    body = output.get("body")
    lowered = {name.lower() for name in headers}
    if status_code in _NO_BODY_STATUSES or body is None:
        response = HttpResponse(status=status_code)
    elif isinstance(body, str):
        response = HttpResponse(body, status=status_code)
        if "content-type" not in lowered:
            headers["Content-Type"] = "text/plain; charset=utf-8"
    else:
        response = _json(status_code, body)
    for name, value in headers.items():
        response[name] = value
    # The answer is served from the API's origin: whatever it says, it runs no script there.
    response["Content-Security-Policy"] = "sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _json(status_code: int, value: Any) -> HttpResponse:
    return HttpResponse(
        json.dumps(value, separators=(",", ":"), ensure_ascii=False),
        status=status_code,
        content_type="application/json",
    )
