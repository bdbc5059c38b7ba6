"""URL configuration: the API under /api/v1/, docs, admin, allauth headless."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from console.views import landing
from monitoring.views import metrics
from workflows.api.hooks import WebhookView

api_v1 = [
    path("", include("accounts.api.urls")),
    path("", include("monitoring.api.urls")),
    path("", include("workflows.api.urls")),
    path("", include("executions.api.urls")),
    path("", include("integrations.api.urls")),
    path("", include("templates_app.api.urls")),
    path("", include("nlparse.api.urls")),
    path("", include("files.api.urls")),
    path("", include("audit.api.urls")),
    path("", include("analytics.api.urls")),
    path("", include("webhooks.api.urls")),
]

urlpatterns = [
    path("", landing, name="landing"),
    path("api/v1/", include(api_v1)),
    # Webhook triggers: public, outside the versioned API (the URL is the credential).
    path("hooks/<str:token>", WebhookView.as_view(), name="webhook"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("openapi.json", SpectacularAPIView.as_view(), {"format": "json"}, name="openapi-json"),
    path("docs", SpectacularSwaggerView.as_view(url_name="schema"), name="docs"),
    path("redoc", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("admin/", admin.site.urls),
    path("metrics", metrics, name="prometheus-metrics"),
    path("_allauth/", include("allauth.headless.urls")),
]

handler404 = "flowbuilder.api.views.page_not_found"
handler500 = "flowbuilder.api.views.server_error"
