from __future__ import annotations

from rest_framework import serializers

from executions.api.serializers import EnumField, HttpUrlField
from webhooks.models import SUBSCRIBABLE_EVENTS, Event, WebhookDelivery, WebhookSigningSecret, WebhookSubscription

EVENTS_HELP = "Events to receive: " + ", ".join(f"`{e}`" for e in SUBSCRIBABLE_EVENTS) + "."


def event_field(**kwargs: object) -> EnumField:
    return EnumField(enum_name="WebhookEventEnum", choices=list(SUBSCRIBABLE_EVENTS), **kwargs)


class WebhookInputSerializer(serializers.Serializer):
    url = HttpUrlField(
        max_length=2000,
        help_text="Where events are POSTed: http(s), and not a private, loopback or link-local address "
        "(unless FLOWBUILDER_HTTP_ALLOWLIST names it).",
    )
    events = serializers.ListField(child=event_field(), allow_empty=False, max_length=10, help_text=EVENTS_HELP)
    workflow = serializers.UUIDField(
        required=False,
        allow_null=True,
        help_text="Only events of this workflow (one of yours): its runs and the files it processes.",
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class WebhookUpdateSerializer(WebhookInputSerializer):
    url = HttpUrlField(required=False, max_length=2000)
    events = serializers.ListField(
        child=event_field(), required=False, allow_empty=False, max_length=10, help_text=EVENTS_HELP
    )
    description = serializers.CharField(required=False, allow_blank=True, max_length=200)
    is_active = serializers.BooleanField(
        required=False, help_text="false pauses deliveries; true re-enables (and clears the failure count)."
    )


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(child=event_field())
    workflow = serializers.UUIDField(source="workflow_id", allow_null=True)

    class Meta:
        model = WebhookSubscription
        fields = [
            "id",
            "url",
            "description",
            "events",
            "workflow",
            "is_active",
            "secret_hint",
            "failure_count",
            "disabled_at",
            "disabled_reason",
            "last_success_at",
            "last_failure_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields


class WebhookWithSecretSerializer(WebhookSerializer):
    secret = serializers.CharField(
        help_text="The signing secret (HMAC-SHA256 key of X-Flowbuilder-Signature). Shown only now: keep it."
    )

    class Meta(WebhookSerializer.Meta):
        fields = [*WebhookSerializer.Meta.fields, "secret"]
        read_only_fields = fields


class WebhookDeliverySerializer(serializers.ModelSerializer):
    subscription = serializers.UUIDField(source="subscription_id", allow_null=True)
    execution = serializers.UUIDField(source="execution_id", allow_null=True)
    event = EnumField(enum_name="WebhookDeliveryEventEnum", choices=Event.choices)
    status = EnumField(enum_name="WebhookDeliveryStatusEnum", choices=WebhookDelivery.Status.choices)
    payload = serializers.JSONField()

    class Meta:
        model = WebhookDelivery
        fields = [
            "id",
            "delivery_id",
            "subscription",
            "execution",
            "event",
            "url",
            "attempt",
            "status",
            "response_status",
            "response_time_ms",
            "response_body",
            "error",
            "next_attempt_at",
            "payload",
            "attempted_at",
            "completed_at",
            "created_at",
        ]
        read_only_fields = fields


class SigningSecretSerializer(serializers.ModelSerializer):
    class Meta:
        model = WebhookSigningSecret
        fields = ["secret_hint", "created_at", "updated_at"]
        read_only_fields = fields


class SigningSecretWithSecretSerializer(SigningSecretSerializer):
    secret = serializers.CharField(help_text="Signs the deliveries to your runs' webhook_url. Shown only now.")

    class Meta(SigningSecretSerializer.Meta):
        fields = [*SigningSecretSerializer.Meta.fields, "secret"]
        read_only_fields = fields
