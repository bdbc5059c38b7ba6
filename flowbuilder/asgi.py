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

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.layers import get_channel_layer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import OriginValidator  # noqa: E402
from django.conf import settings  # noqa: E402

from flowbuilder import embedded  # noqa: E402
from flowbuilder.log_filters import install_on_server_loggers  # noqa: E402
from flowbuilder.routing import websocket_urlpatterns  # noqa: E402
from flowbuilder.shedding import ShedLoad  # noqa: E402

install_on_server_loggers()  # uvicorn logs paths with their query: ?token= must not reach a log line


class WebsocketOriginValidator(OriginValidator):
    """Browser sockets from the site's own hosts or the SPA's origins (CORS_ALLOWED_ORIGINS); others unchecked.

    Sockets authenticate with a token; the one exception, a staff member's admin session on the
    console's run page, is also checked to come from the site's own origin (auth.console_principal). Clients that are not
    browsers send no Origin and are let through (channels' stock validator
    refuses them).
    """

    def __init__(self, application: Any) -> None:
        hosts = list(settings.ALLOWED_HOSTS)
        if settings.DEBUG and not hosts:
            hosts = ["localhost", "127.0.0.1", "[::1]"]
        super().__init__(application, [*hosts, *settings.CORS_ALLOWED_ORIGINS])

    def valid_origin(self, parsed_origin: Any) -> bool:
        return parsed_origin is None or super().valid_origin(parsed_origin)


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
        "http": ShedLoad(django_asgi_app),
        # The session (AuthMiddlewareStack) only serves the console's run page: a staff member's
        # admin cookie, from the site's own origin (executions.live.auth.console_principal).
        "websocket": WebsocketOriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
        "lifespan": lifespan,
    }
)
