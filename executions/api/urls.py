from __future__ import annotations

from django.urls import path
from rest_framework.routers import SimpleRouter

from executions.api import views
from executions.live.sse import log_stream

router = SimpleRouter(trailing_slash=False)
router.register("executions", views.ExecutionViewSet, basename="execution")

workflow_runs = views.WorkflowExecutionListView.as_view()

urlpatterns = [
    path("workflows/<uuid:workflow_id>/execute", views.WorkflowExecuteView.as_view(), name="workflow-execute"),
    path("workflows/<uuid:workflow_id>/executions", workflow_runs, name="workflow-executions"),
    path("workflows/<uuid:workflow_id>/runs", workflow_runs, name="workflow-runs"),
    path("test/execute/<uuid:workflow_id>", views.TestExecuteView.as_view(), name="test-execute"),
    path("executions/<uuid:pk>/logs/stream", log_stream, name="execution-log-stream"),
    # Seed 003's path for a run's status: the same view as /executions/{id}.
    path(
        "workflows/executions/<uuid:pk>",
        views.ExecutionViewSet.as_view({"get": "retrieve"}),
        name="workflow-execution-alias",
    ),
    *router.urls,
]
