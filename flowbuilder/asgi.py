"""ASGI entry point: HTTP through Django, websockets through Channels.

Run with ``uvicorn flowbuilder.asgi:application``. The lifespan handler starts
the embedded Celery worker when no broker is configured.
"""

from __future__ import annotations

import asyncio
import os
from typing import Any

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbuilder.settings")
django_asgi_app = get_asgi_application()

from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from flowbuilder import embedded  # noqa: E402
from flowbuilder.routing import websocket_urlpatterns  # noqa: E402


async def lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """ASGI lifespan: bind the in-memory channel layer to this loop, start the embedded worker."""
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            layer = get_channel_layer()
            if hasattr(layer, "bind_loop"):
                layer.bind_loop(asyncio.get_running_loop())
            await asyncio.to_thread(embedded.start)
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(URLRouter(websocket_urlpatterns)),
        "lifespan": lifespan,
    }
)
