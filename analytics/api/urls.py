from __future__ import annotations

from django.urls import path

from analytics.api import views

urlpatterns = [
    path("analytics/usage", views.UsageView.as_view(), name="analytics-usage"),
    path("analytics/workflows", views.WorkflowsView.as_view(), name="analytics-workflows"),
    path("analytics/costs", views.CostsView.as_view(), name="analytics-costs"),
]
