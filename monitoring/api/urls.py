from __future__ import annotations

from django.urls import path

from monitoring.api import views

urlpatterns = [
    path("monitoring/health", views.HealthView.as_view(), name="monitoring-health"),
    path("monitoring/metrics", views.MetricsView.as_view(), name="monitoring-metrics"),
]
