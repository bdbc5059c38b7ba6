"""API calls per user and day (the rest of the analytics is computed from runs and AI usage)."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiUsageDaily(models.Model):
    """API calls of one user on one UTC day, flushed from the cache counters by :mod:`analytics.usage`."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    count = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="api_usage_unique_user_day")]
        indexes = [models.Index(fields=["day"], name="api_usage_day")]
        verbose_name = "API usage (daily)"
        verbose_name_plural = "API usage (daily)"

    def __str__(self) -> str:
        return f"{self.user_id} {self.day}: {self.count}"
