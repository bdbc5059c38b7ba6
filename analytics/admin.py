from __future__ import annotations

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest

from analytics.models import ApiUsageDaily
from console.admin_utils import ReadOnlyAdminMixin


@admin.register(ApiUsageDaily)
class ApiUsageDailyAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ["day", "user", "count"]
    list_filter = ["day"]
    list_select_related = ["user"]
    search_fields = ["user__email"]
    date_hierarchy = "day"
    ordering = ["-day", "-count"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[ApiUsageDaily]:
        return super().get_queryset(request).defer("user__password")
