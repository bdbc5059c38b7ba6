"""Staff console: credentials with their secrets never shown, integrations, AI usage (read-only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from integrations.models import AIUsage, Credential, Integration


@admin.register(Credential)
class CredentialAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "owner", "hint", "last_used_at", "updated_at"]
    list_filter = ["type"]
    search_fields = ["name", "owner__email"]
    # The ciphertext is not shown either: staff need no handle on it.
    fields = ["name", "type", "owner", "hint", "created_at", "updated_at", "last_used_at"]
    readonly_fields = ["type", "owner", "hint", "created_at", "updated_at", "last_used_at"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # secrets are entered by their owners, through the API


@admin.register(Integration)
class IntegrationAdmin(admin.ModelAdmin):
    list_display = ["name", "type", "owner", "credential", "updated_at"]
    list_select_related = ["owner", "credential"]  # credential is nullable: Django would not join it
    list_filter = ["type"]
    search_fields = ["name", "owner__email"]
    raw_id_fields = ["owner", "credential"]


@admin.register(AIUsage)
class AIUsageAdmin(admin.ModelAdmin):
    list_display = ["created_at", "user", "provider", "model", "kind", "source", "total_tokens", "cost"]
    list_filter = ["provider", "kind", "source"]
    search_fields = ["user__email", "model", "provider"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
