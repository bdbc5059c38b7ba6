"""Websocket routes (SPEC §4). Ids are matched loosely: a malformed one is closed with 4403 like a missing one."""

from __future__ import annotations

from django.urls import re_path

from executions.live import consumers

websocket_urlpatterns = [
    re_path(r"^ws/executions/(?P<execution_id>[^/]+)/?$", consumers.ExecutionConsumer.as_asgi()),
    re_path(r"^ws/workflows/(?P<workflow_id>[^/]+)/?$", consumers.WorkflowConsumer.as_asgi()),
    re_path(r"^ws/notifications/?$", consumers.NotificationConsumer.as_asgi()),
]
