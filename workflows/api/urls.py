from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from workflows.api import views

router = SimpleRouter(trailing_slash=False)
router.register("workflows", views.WorkflowViewSet, basename="workflow")

urlpatterns = [
    path("node-types", views.NodeTypeListView.as_view(), name="node-types"),
    *router.urls,
]
