"""``GET /api/v1/executions/{id}/logs/stream``: a run's log lines as Server-Sent Events.

An async view: the request cycle of the REST API (authentication with the
same headers plus ``?token=`` / ``?api_key=`` for ``EventSource``, the
``log:read`` permission on the run's workflow, rate limits, the error
envelope) runs once in a thread; the stream itself holds no thread.

The stream sends the lines after ``Last-Event-ID`` (a log id; from the start
without it), then new ones as they are written, each as ``id: <log id>``,
``event: log``, ``data: <the log line as JSON>``. It subscribes to the run's
channel-layer group to know when to read again (and reads every few seconds
regardless, for lines written without an event), sends a ``: ping`` comment
when idle, and ends with ``event: end`` (data ``{"execution_id", "status"}``)
after the last line of a run that has ended. A resume of an ended run with
nothing left answers ``204``, which tells ``EventSource`` to stop reconnecting.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from channels.db import database_sync_to_async
from channels.layers import get_channel_layer
from django.conf import settings
from django.http import HttpResponse, HttpResponseBase, StreamingHttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.exceptions import MethodNotAllowed
from rest_framework.renderers import BaseRenderer, JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.views import APIView

from accounts.authentication import granted_permissions
from accounts.permissions import HasApiPermission
from executions import broadcast, selectors
from executions.api import serializers as s
from executions.live.auth import QueryApiKeyAuthentication, QueryTokenAuthentication
from executions.models import Execution, ExecutionLog
from flowbuilder.api.errors import ValidationFailed

logger = logging.getLogger(__name__)

READ_BATCH = 500  # log lines per database read
FALLBACK_POLL_SECONDS = 5.0  # read again this often even without a wake-up
RECONNECT_MILLISECONDS = 3000  # the `retry:` EventSource waits before reconnecting
# Events that may mean new log lines (the end of a run writes its last ones).
WAKING_EVENTS = frozenset({"log", "execution_completed", "execution_failed"})


class EventStreamRenderer(BaseRenderer):
    """Lets DRF's content negotiation accept ``Accept: text/event-stream``; the stream is written by the view."""

    media_type = "text/event-stream"
    format = "sse"
    charset = "utf-8"

    def render(self, data: Any, accepted_media_type: str | None = None, renderer_context: Any = None) -> bytes:
        return json.dumps(data).encode()


@dataclass(frozen=True)
class StreamPlan:
    execution_id: str
    after_id: int
    level: str | None
    node_id: str | None


def sse_event(event: str, data: str, event_id: int | None = None) -> bytes:
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n".encode()


def read_logs(plan: StreamPlan, after_id: int) -> tuple[str | None, list[tuple[int, str]]]:
    """The run's status and its next lines after ``after_id``, rendered (one thread hop per read)."""
    status, logs = selectors.execution_logs_after(
        plan.execution_id, after_id, level=plan.level, node_id=plan.node_id, limit=READ_BATCH
    )
    return status, [(log.pk, json.dumps(s.ExecutionLogSerializer(log).data)) for log in logs]


class ExecutionLogStreamView(APIView):
    """A run's log lines, then new ones as they are written, as Server-Sent Events."""

    permission_classes = [HasApiPermission]
    required_permissions = {"GET": "log:read"}
    authentication_classes = [
        *api_settings.DEFAULT_AUTHENTICATION_CLASSES,
        QueryTokenAuthentication,
        QueryApiKeyAuthentication,
    ]
    renderer_classes = [JSONRenderer, EventStreamRenderer]

    @extend_schema(
        tags=["executions"],
        summary="Follow a run's log lines (Server-Sent Events)",
        description=(
            "`text/event-stream`: the lines after `Last-Event-ID` (all without it), then new ones as they are "
            "written, each as `id: <log id>`, `event: log`, `data: <ExecutionLog as JSON>`; `: ping` comments "
            "keep the connection open; after the last line of a run that has ended, `event: end` with "
            '`{"execution_id", "status"}` and the stream closes. `EventSource` cannot send headers: pass '
            "`?token=<jwt>` (or `?api_key=`) instead. Resuming an ended run with nothing left answers 204."
        ),
        parameters=[
            OpenApiParameter(
                "Last-Event-ID",
                int,
                OpenApiParameter.HEADER,
                required=False,
                description="Resume after this log id (EventSource sends it when it reconnects).",
            ),
            OpenApiParameter("last_event_id", int, required=False, description="The same, as a query parameter."),
            OpenApiParameter("level", str, enum=ExecutionLog.Level.values, required=False),
            OpenApiParameter("node_id", str, required=False, description="Only this step's lines."),
            OpenApiParameter("token", str, required=False, description="An access token, for EventSource."),
            OpenApiParameter("api_key", str, required=False, description="An API key, for EventSource."),
            OpenApiParameter("format", exclude=True),
        ],
        responses={
            (200, "text/event-stream"): OpenApiResponse(
                response=OpenApiTypes.STR,
                description="The event stream",
            ),
            204: OpenApiResponse(description="The run has ended and nothing follows Last-Event-ID"),
            403: OpenApiResponse(description="Your roles or your access to the workflow do not include log:read"),
        },
    )
    async def get(self, request: Request, pk: Any) -> HttpResponseBase:
        plan: StreamPlan = self.plan
        response = StreamingHttpResponse(self.events(plan), content_type="text/event-stream; charset=utf-8")
        response["Cache-Control"] = "no-cache"
        response["X-Accel-Buffering"] = "no"  # nginx: do not buffer the stream
        return response

    async def dispatch(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase:
        # DRF's request cycle is synchronous and reads the database: run it once in a thread.
        refused = await database_sync_to_async(self.prepare)(request, *args, **kwargs)
        if refused is not None:
            return refused
        return await self.get(self.request, *args, **kwargs)

    def prepare(self, request: Any, *args: Any, **kwargs: Any) -> HttpResponseBase | None:
        """Authenticate, authorise and read the parameters; answers the error (or 204) response, else None."""
        self.args, self.kwargs = args, kwargs
        drf_request = self.initialize_request(request, *args, **kwargs)
        self.request = drf_request
        self.headers = self.default_response_headers
        try:
            self.initial(drf_request, *args, **kwargs)
            if drf_request.method != "GET":
                raise MethodNotAllowed(drf_request.method)
            self.plan = self.plan_for(drf_request, kwargs["pk"])
            if self.plan.after_id and self.nothing_left(self.plan):
                return HttpResponse(status=204)
            return None
        except Exception as exc:
            # Errors are JSON whatever the client accepts (an EventSource asks for text/event-stream).
            drf_request.accepted_renderer, drf_request.accepted_media_type = JSONRenderer(), "application/json"
            response = self.handle_exception(exc)
            return self.finalize_response(drf_request, response, *args, **kwargs)

    def plan_for(self, request: Request, execution_id: Any) -> StreamPlan:
        execution = selectors.execution_for(
            request.user, execution_id, granted=granted_permissions(request), needed="log:read"
        )
        raw = request.headers.get("Last-Event-ID") or request.query_params.get("last_event_id") or "0"
        if not raw.strip().isdigit():
            raise ValidationFailed("Last-Event-ID must be a log id (a non-negative integer)", field="Last-Event-ID")
        level = request.query_params.get("level") or None
        if level and level not in ExecutionLog.Level.values:
            raise ValidationFailed(
                f"'{level}' is not a log level; use one of {', '.join(ExecutionLog.Level.values)}", field="level"
            )
        return StreamPlan(
            execution_id=str(execution.pk),
            after_id=int(raw.strip()),
            level=level,
            node_id=request.query_params.get("node_id") or None,
        )

    @staticmethod
    def nothing_left(plan: StreamPlan) -> bool:
        status, logs = selectors.execution_logs_after(
            plan.execution_id, plan.after_id, level=plan.level, node_id=plan.node_id, limit=1
        )
        return status in Execution.FINISHED and not logs

    @staticmethod
    async def events(plan: StreamPlan) -> AsyncIterator[bytes]:
        """The stream: what is there, then what comes, until the run has ended and its last line was sent."""
        loop = asyncio.get_running_loop()
        layer = get_channel_layer()
        group = broadcast.execution_group(plan.execution_id)
        channel = await layer.new_channel()
        await layer.group_add(group, channel)  # before the first read: no line can slip between
        waking: asyncio.Future[Any] | None = None
        subscribed = True  # False once the channel layer failed: poll only
        heartbeat = settings.FLOWBUILDER_LIVE_HEARTBEAT_SECONDS
        try:
            yield f"retry: {RECONNECT_MILLISECONDS}\n\n".encode()
            last_id, last_write = plan.after_id, loop.time()
            while True:
                status, lines = await database_sync_to_async(read_logs)(plan, last_id)
                if lines:
                    yield b"".join(sse_event("log", text, log_id) for log_id, text in lines)
                    last_id, last_write = lines[-1][0], loop.time()
                if len(lines) == READ_BATCH:
                    continue
                if status is None or status in Execution.FINISHED:
                    end = {"execution_id": plan.execution_id, "status": status}
                    yield sse_event("end", json.dumps(end))
                    return
                while True:  # wait for a wake-up, the fallback read, or a heartbeat
                    until_ping = last_write + heartbeat - loop.time()
                    timeout = max(0.0, min(FALLBACK_POLL_SECONDS, until_ping))
                    if subscribed:
                        if waking is None:
                            waking = asyncio.ensure_future(layer.receive(channel))
                        done, _ = await asyncio.wait({waking}, timeout=timeout)
                    else:
                        await asyncio.sleep(timeout)
                        done = set()
                    if waking is not None and waking in done:
                        woken, subscribed = _wakes(waking)
                        waking = None
                        if woken:
                            break
                        continue
                    if loop.time() - last_write >= heartbeat:
                        yield b": ping\n\n"
                        last_write = loop.time()
                    break  # the fallback read
        finally:
            if waking is not None:
                waking.cancel()
            with contextlib.suppress(Exception):
                await layer.group_discard(group, channel)


def _wakes(received: asyncio.Future[Any]) -> tuple[bool, bool]:
    """(whether a channel-layer message may mean new lines, whether the layer still works)."""
    try:
        message = received.result()
    except Exception:
        logger.warning("Log stream: the channel layer failed; polling instead", exc_info=True)
        return True, False
    return any(m.get("type") in WAKING_EVENTS for m in message.get("messages", [])), True


log_stream = ExecutionLogStreamView.as_view()
