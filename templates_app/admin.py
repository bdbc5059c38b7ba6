"""Staff console for templates: the gallery and users' templates, with their parameters inline."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from templates_app.models import Template, TemplateParameter


class TemplateParameterInline(admin.TabularInline):
    """Read-only: parameters are checked with the definition, which only the API and seeding do."""

    model = TemplateParameter
    extra = 0
    can_delete = False
    fields = ["position", "name", "parameter_type", "is_required", "default_value", "choices", "description"]
    readonly_fields = fields
    ordering = ["position"]

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Template)
class TemplateAdmin(admin.ModelAdmin):
    list_display = ["name", "category", "is_builtin", "owner", "is_active", "usage_count", "updated_at"]
    list_select_related = ["owner"]  # owner is nullable (built-ins): Django would not join it
    list_filter = ["is_builtin", "is_active", "category"]
    search_fields = ["name", "description", "key", "owner__email"]
    # The content is checked as a whole by the services; here staff rename, recategorise or hide.
    readonly_fields = [
        "id",
        "key",
        "is_builtin",
        "owner",
        "definition",
        "companions",
        "usage_count",
        "source_workflow",
        "created_at",
        "updated_at",
    ]
    inlines = [TemplateParameterInline]
