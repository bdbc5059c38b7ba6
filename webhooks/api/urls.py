from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from webhooks.api import views

router = SimpleRouter(trailing_slash=False)
router.register("webhooks", views.WebhookViewSet, basename="webhook")

urlpatterns = [
    path("webhooks/signing-secret", views.SigningSecretView.as_view(), name="webhook-signing-secret"),
    path("webhooks/run-deliveries", views.RunDeliveryListView.as_view(), name="webhook-run-deliveries"),
    *router.urls,
]
