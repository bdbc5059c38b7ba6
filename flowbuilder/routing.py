"""Websocket URL routes (SPEC §4): the live execution sockets."""

from __future__ import annotations

from executions.live.routing import websocket_urlpatterns

__all__ = ["websocket_urlpatterns"]
