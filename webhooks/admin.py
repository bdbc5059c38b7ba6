"""Staff console: webhooks (secrets never shown) and their delivery attempts (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from webhooks import services
from webhooks.models import WebhookDelivery, WebhookSigningSecret, WebhookSubscription


@admin.register(WebhookSubscription)
class WebhookSubscriptionAdmin(admin.ModelAdmin):
    list_display = ["url", "owner", "events", "is_active", "failure_count", "disabled_at", "last_success_at"]
    list_select_related = ["owner"]
    list_filter = ["is_active"]
    search_fields = ["url", "description", "owner__email"]
    raw_id_fields = ["owner", "workflow"]
    # The ciphertext is not shown: staff need no handle on it.
    fields = [
        "owner",
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
    # Staff pause or resume a webhook (through the service, which also ends or resets what goes with it);
    # its URL and events are its owner's to change, through the API and its address checks.
    readonly_fields = [f for f in fields if f not in ("is_active", "description")]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # the secret is made for and shown to its owner, through the API

    def save_model(self, request: HttpRequest, obj: WebhookSubscription, form: Any, change: bool) -> None:
        services.webhook_update(subscription=obj, is_active=obj.is_active, description=obj.description)


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "event",
        "url",
        "attempt",
        "status",
        "response_status",
        "response_time_ms",
        "owner",
    ]
    list_select_related = ["owner"]
    list_filter = ["status", "event"]
    search_fields = ["url", "owner__email", "=delivery_id", "=execution__id"]
    date_hierarchy = "created_at"
    ordering = ["-created_at"]
    show_full_result_count = False
    raw_id_fields = ["owner", "subscription", "execution"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(WebhookSigningSecret)
class WebhookSigningSecretAdmin(admin.ModelAdmin):
    list_display = ["owner", "secret_hint", "created_at", "updated_at"]
    list_select_related = ["owner"]
    search_fields = ["owner__email"]
    fields = ["owner", "secret_hint", "created_at", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
