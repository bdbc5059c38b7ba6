from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db.models import QuerySet
from django.http import HttpRequest

from accounts import services
from accounts.models import ApiKey, User
from console.admin_utils import CascadeSummaryMixin
from executions.models import Execution
from workflows.models import Workflow


@admin.register(User)
class UserAdmin(CascadeSummaryMixin, BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "role_list", "is_staff", "is_guest", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "is_guest", "groups"]
    search_fields = ["email", "first_name", "last_name", "company"]
    readonly_fields = ["last_login", "date_joined", "guest_expires_at"]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Profile", {"fields": ("first_name", "last_name", "company")}),
        ("Access", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("Guest", {"fields": ("is_guest", "guest_expires_at")}),
        ("Dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)
    actions = ["revoke_tokens"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[User]:
        return super().get_queryset(request).prefetch_related("groups")

    def delete_summary(self, objs: list[User]) -> dict[str, int]:
        return {
            "workflows": Workflow.objects.filter(owner__in=objs).count(),
            "runs (with their steps and logs)": Execution.objects.filter(owner__in=objs).count(),
            "API keys": ApiKey.objects.filter(user__in=objs).count(),
        }

    @admin.display(description="Roles")
    def role_list(self, user: User) -> str:
        return ", ".join(sorted(group.name for group in user.groups.all())) or "—"

    @admin.action(
        description="Sign the selected users out everywhere (revoke their refresh tokens)", permissions=["change"]
    )
    def revoke_tokens(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        revoked = sum(services.tokens_revoke_all(user=user) for user in queryset)
        self.message_user(request, f"Revoked {revoked} refresh token(s).", messages.SUCCESS)


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "prefix", "user", "state", "created_at", "last_used_at", "expires_at", "revoked_at"]
    list_filter = ["revoked_at", "created_at"]
    list_select_related = ["user"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = [
        "id",
        "user",
        "prefix",
        "key_hash",
        "scopes",
        "created_at",
        "last_used_at",
        "expires_at",
        "revoked_at",
    ]
    fields = ["id", "name", *readonly_fields[1:]]
    actions = ["revoke"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiKey]:
        return super().get_queryset(request).defer("user__password")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # keys are created through the API or `manage.py create_api_key`, shown once

    @admin.display(description="State")
    def state(self, key: ApiKey) -> str:
        if key.revoked_at is not None:
            return "revoked"
        return "active" if key.is_usable else "expired"

    @admin.action(description="Revoke selected API keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        keys = list(queryset.filter(revoked_at__isnull=True))
        for key in keys:
            services.api_key_revoke(api_key=key)  # audited as api_key.revoked
        self.message_user(request, f"Revoked {len(keys)} key(s).", messages.SUCCESS)
