"""Websocket URL routes (SPEC §4)."""

from __future__ import annotations

websocket_urlpatterns: list = []
