"""Outgoing webhooks: thin views over :mod:`webhooks.services` and :mod:`webhooks.selectors`.

Only a subscription's owner sees it (anyone else's is a 404). Reading needs
``credential:read``, changing ``credential:write`` (a webhook holds a secret,
like a credential; guests have neither).
"""

from __future__ import annotations

import django_filters
from django.db.models import QuerySet
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.generics import GenericAPIView
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import HasApiPermission
from flowbuilder.api.filters import KnownQueryParameters, StrictOrderingFilter
from webhooks import delivery, selectors, services
from webhooks.api import serializers as s
from webhooks.models import Event, WebhookDelivery, WebhookSubscription

SIGNATURE_DOC = (
    "Each delivery is `POST <url>` with the JSON body `{event, data, timestamp, delivery_id}` and the headers "
    "`X-Flowbuilder-Event`, `X-Flowbuilder-Delivery` (the same for every attempt of an event) and "
    '`X-Flowbuilder-Signature: t=<unix time>,v1=<hex HMAC-SHA256 of "<t>.<raw body>" keyed with the secret>`. '
    "Any 2xx answer is success; anything else is retried with backoff."
)
UUID_REGEX = "[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"


class DeliveryFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=WebhookDelivery.Status.choices)
    event = django_filters.ChoiceFilter(choices=Event.choices)
    execution = django_filters.UUIDFilter(field_name="execution_id")
    delivery_id = django_filters.UUIDFilter()

    class Meta:
        model = WebhookDelivery
        fields = ["status", "event", "execution", "delivery_id"]


DELIVERY_FILTERS = [
    OpenApiParameter(
        "status", str, enum=list(WebhookDelivery.Status.values), description="Only attempts in this state"
    ),
    OpenApiParameter("event", str, enum=list(Event.values), description="Only attempts of this event"),
    OpenApiParameter("execution", OpenApiTypes.UUID, description="Only attempts about this run"),
    OpenApiParameter("delivery_id", OpenApiTypes.UUID, description="Only the attempts of this delivery"),
]


def _deliveries_page(view: GenericAPIView, request: Request, queryset: QuerySet) -> Response:
    filterset = DeliveryFilter(request.query_params, queryset=queryset, request=request)
    if not filterset.is_valid():
        raise translate_validation(filterset.errors)  # 400 naming the parameter
    page = view.paginate_queryset(filterset.qs)
    return view.get_paginated_response(s.WebhookDeliverySerializer(page, many=True).data)


@extend_schema_view(
    list=extend_schema(summary="Your outgoing webhooks"),
    retrieve=extend_schema(summary="An outgoing webhook (never its secret)"),
    destroy=extend_schema(summary="Delete a webhook and its delivery log"),
)
@extend_schema(tags=["webhooks"])
class WebhookViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    permission_classes = [HasApiPermission]
    required_permissions = {
        "list": "credential:read",
        "retrieve": "credential:read",
        "deliveries": "credential:read",
        "create": "credential:write",
        "partial_update": "credential:write",
        "destroy": "credential:write",
        "test": "credential:write",
        "rotate_secret": "credential:write",
    }
    serializer_class = s.WebhookSerializer
    queryset = WebhookSubscription.objects.none()
    filter_backends = [KnownQueryParameters, StrictOrderingFilter]
    ordering_fields = ["created_at", "url", "last_success_at", "last_failure_at"]
    ordering = ["-created_at"]
    lookup_value_regex = UUID_REGEX

    def get_queryset(self) -> QuerySet[WebhookSubscription]:
        if getattr(self, "swagger_fake_view", False):
            return WebhookSubscription.objects.none()
        return selectors.webhook_list(self.request.user)

    def get_object(self) -> WebhookSubscription:
        return selectors.webhook_get(user=self.request.user, webhook_id=self.kwargs["pk"])

    @extend_schema(
        summary="Subscribe a URL to events",
        description="Answers the signing secret once. " + SIGNATURE_DOC,
        request=s.WebhookInputSerializer,
        responses={201: s.WebhookWithSecretSerializer},
    )
    def create(self, request: Request) -> Response:
        data = s.WebhookInputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        subscription, secret = services.webhook_create(
            owner=request.user, workflow_id=fields.pop("workflow", None), **fields
        )
        subscription.secret = secret
        return Response(s.WebhookWithSecretSerializer(subscription).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary="Change a webhook's URL, events, workflow filter, description or state",
        request=s.WebhookUpdateSerializer,
        responses={200: s.WebhookSerializer},
    )
    def partial_update(self, request: Request, pk: str) -> Response:
        subscription = self.get_object()
        data = s.WebhookUpdateSerializer(data=request.data, partial=True)
        data.is_valid(raise_exception=True)
        fields = dict(data.validated_data)
        if "workflow" in fields:
            fields["workflow_id"] = fields.pop("workflow")
        subscription = services.webhook_update(subscription=subscription, **fields)
        return Response(s.WebhookSerializer(subscription).data)

    def destroy(self, request: Request, pk: str) -> Response:
        services.webhook_delete(subscription=self.get_object())
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Send a test event",
        description=(
            "Queues a `ping` event (`data`: {subscription_id, message}) to the webhook, active or not: one "
            "attempt, no retry, not counted against it. Answers the pending attempt; its outcome is in the "
            "deliveries. " + SIGNATURE_DOC
        ),
        request=None,
        responses={202: s.WebhookDeliverySerializer},
    )
    @action(detail=True, methods=["post"])
    def test(self, request: Request, pk: str) -> Response:
        row = services.webhook_ping(subscription=self.get_object())
        return Response(s.WebhookDeliverySerializer(row).data, status=status.HTTP_202_ACCEPTED)

    @extend_schema(
        summary="Replace the signing secret",
        description="Answers the new secret once; every delivery from now on (retries too) is signed with it.",
        request=None,
        responses={200: s.WebhookWithSecretSerializer},
    )
    @action(detail=True, methods=["post"], url_path="rotate-secret")
    def rotate_secret(self, request: Request, pk: str) -> Response:
        subscription, secret = services.webhook_rotate_secret(subscription=self.get_object())
        subscription.secret = secret
        return Response(s.WebhookWithSecretSerializer(subscription).data)

    @extend_schema(
        summary="The webhook's delivery attempts, newest first",
        description=(
            "One row per attempt: status (`pending`, `succeeded`, `retrying` — a later attempt follows —, "
            "`given_up` after the last attempt, `failed` — not retried: a refused address, a test event, the "
            "webhook disabled), response status and time, the start of the answer. Attempts of one event share "
            f"`delivery_id`. Retries follow {delivery.max_attempts()} attempts in all by default."
        ),
        parameters=DELIVERY_FILTERS,
        responses={200: s.WebhookDeliverySerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def deliveries(self, request: Request, pk: str) -> Response:
        return _deliveries_page(self, request, selectors.deliveries_of(self.get_object()))


@extend_schema(tags=["webhooks"])
class RunDeliveryListView(GenericAPIView):
    """Deliveries to the ``webhook_url`` given to ``POST /workflows/{id}/execute``."""

    permission_classes = [HasApiPermission]
    serializer_class = s.WebhookDeliverySerializer
    queryset = WebhookDelivery.objects.none()
    filter_backends: list = []
    required_permissions = {"GET": "execution:read"}

    @extend_schema(
        summary="Deliveries to your runs' webhook_url, newest first",
        description=(
            "`workflow.execution.completed` or `.failed` for each run started with a `webhook_url`, signed with "
            "your signing secret (`/webhooks/signing-secret`), retried like subscriptions' deliveries."
        ),
        parameters=DELIVERY_FILTERS,
        responses={200: s.WebhookDeliverySerializer(many=True)},
    )
    def get(self, request: Request) -> Response:
        return _deliveries_page(self, request, selectors.run_deliveries(request.user))


@extend_schema(tags=["webhooks"])
class SigningSecretView(APIView):
    """The secret that signs deliveries to the ``webhook_url`` of your runs (one per user)."""

    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "credential:read", "POST": "credential:write"}

    @extend_schema(
        summary="Your run-webhook signing secret (its hint; the secret is shown only when made)",
        responses={200: s.SigningSecretSerializer, 404: OpenApiResponse(description="None made yet")},
    )
    def get(self, request: Request) -> Response:
        return Response(s.SigningSecretSerializer(selectors.signing_secret_get(request.user)).data)

    @extend_schema(
        summary="Make or replace your run-webhook signing secret",
        description=(
            "Answers the secret once. Deliveries to a run's `webhook_url` are signed with it like a "
            "subscription's (X-Flowbuilder-Signature); if you never made one, one was made for the first "
            "delivery, and only replacing it here lets you verify signatures."
        ),
        request=None,
        responses={201: s.SigningSecretWithSecretSerializer},
    )
    def post(self, request: Request) -> Response:
        row, secret = services.signing_secret_rotate(owner=request.user)
        row.secret = secret
        return Response(s.SigningSecretWithSecretSerializer(row).data, status=status.HTTP_201_CREATED)
