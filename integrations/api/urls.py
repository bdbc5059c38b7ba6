from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from integrations.api import views

router = SimpleRouter(trailing_slash=False)
router.register("credentials", views.CredentialViewSet, basename="credential")
router.register("integrations", views.IntegrationViewSet, basename="integration")

urlpatterns = [
    path("credential-types", views.CredentialTypeListView.as_view(), name="credential-types"),
    path("ai/chat", views.AIChatView.as_view(), name="ai-chat"),
    path("ai/image/generate", views.AIImageGenerateView.as_view(), name="ai-image-generate"),
    path("ai/image/analyze", views.AIImageAnalyzeView.as_view(), name="ai-image-analyze"),
    *router.urls,
]
