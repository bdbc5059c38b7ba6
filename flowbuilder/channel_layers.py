"""An in-memory channel layer that worker threads may publish to.

Channels' ``InMemoryChannelLayer`` keeps asyncio queues bound to the server's
event loop. A ``group_send`` from a Celery worker thread (embedded mode) runs
on another loop: the put does not wake the server loop, and the message
arrived seconds late, whenever something else happened to wake it. This
layer remembers the loop its consumers live on and hands publishes from any
other loop to it with ``run_coroutine_threadsafe``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from channels.layers import InMemoryChannelLayer


class ThreadSafeInMemoryChannelLayer(InMemoryChannelLayer):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._home_loop: asyncio.AbstractEventLoop | None = None

    def bind_loop(self, loop: asyncio.AbstractEventLoop) -> None:
        """Name the server's loop (done at ASGI start-up and on first receive)."""
        self._home_loop = loop

    def _foreign_loop(self) -> bool:
        home = self._home_loop
        if home is None or home.is_closed() or not home.is_running():
            return False
        return asyncio.get_running_loop() is not home

    async def _on_home(self, coro: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(coro, self._home_loop))  # type: ignore[arg-type]

    async def receive(self, channel: str) -> Any:
        if self._home_loop is None or self._home_loop.is_closed():
            self._home_loop = asyncio.get_running_loop()
        return await super().receive(channel)

    async def send(self, channel: str, message: dict) -> None:
        if self._foreign_loop():
            return await self._on_home(super().send(channel, message))
        return await super().send(channel, message)

    async def group_send(self, group: str, message: dict) -> None:
        if self._foreign_loop():
            return await self._on_home(super().group_send(group, message))
        return await super().group_send(group, message)

    async def group_add(self, group: str, channel: str) -> None:
        if self._foreign_loop():
            return await self._on_home(super().group_add(group, channel))
        return await super().group_add(group, channel)

    async def group_discard(self, group: str, channel: str) -> None:
        if self._foreign_loop():
            return await self._on_home(super().group_discard(group, channel))
        return await super().group_discard(group, channel)
