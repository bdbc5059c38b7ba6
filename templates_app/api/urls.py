from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from templates_app.api import views

router = SimpleRouter(trailing_slash=False)
router.register("templates", views.TemplateViewSet, basename="template")

urlpatterns = [
    path("workflows/<uuid:pk>/save-as-template", views.SaveAsTemplateView.as_view(), name="workflow-save-as-template"),
    *router.urls,
]
