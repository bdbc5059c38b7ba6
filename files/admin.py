from __future__ import annotations

from django.contrib import admin

from files.models import StoredFile


@admin.register(StoredFile)
class StoredFileAdmin(admin.ModelAdmin):
    list_display = ["name", "owner", "category", "content_type", "size", "status", "created_at"]
    list_filter = ["category", "status"]
    search_fields = ["name", "owner__email", "sha256"]
    raw_id_fields = ["owner", "workflow", "execution"]
    readonly_fields = ["key", "content_type", "declared_content_type", "size", "sha256", "created_at", "updated_at"]
    date_hierarchy = "created_at"
