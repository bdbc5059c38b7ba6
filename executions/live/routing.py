"""Websocket routes (SPEC §4). Ids are matched loosely: a malformed one is closed with 4403 like a missing one.

Each socket is served under ``ws/`` and under ``api/v1/ws/`` (seed 002's path), with or without the
trailing slash. Any other path is refused at the handshake (403), never an error in the router.
"""

from __future__ import annotations

from django.urls import re_path

from executions.live import consumers

PREFIX = r"^(?:api/v1/)?ws/"

websocket_urlpatterns = [
    re_path(PREFIX + r"executions/(?P<execution_id>[^/]+)/?$", consumers.ExecutionConsumer.as_asgi()),
    re_path(PREFIX + r"workflows/(?P<workflow_id>[^/]+)/?$", consumers.WorkflowConsumer.as_asgi()),
    re_path(PREFIX + r"notifications/?$", consumers.NotificationConsumer.as_asgi()),
    re_path(r"", consumers.UnknownPathConsumer.as_asgi()),
]
