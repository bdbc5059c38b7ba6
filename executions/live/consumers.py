"""The live sockets: ``ws/executions/{id}/``, ``ws/workflows/{id}/``, ``ws/notifications/``.

A consumer only authenticates, authorises, joins groups and relays what
:mod:`executions.broadcast` publishes; it never writes to the ORM (a client's
``cancel`` goes through :func:`executions.services.execution_cancel`).

Protocol (server → client): every SPEC §4 message with its per-run ``seq``,
one frame each, in ``seq`` order per run and without repeats; before them an
execution socket sends a ``snapshot``, a workflow socket ``active_executions``
and a notification socket ``subscribed``. ``ping`` frames every
FLOWBUILDER_LIVE_HEARTBEAT_SECONDS keep proxies from closing idle sockets.
Client → server: ``{"type": "ping"}`` (answered ``pong``) and, on an
execution socket, ``{"type": "cancel"}``. Mistakes are answered
``{"type": "error", "code", "message"}``. Close codes: 4401 for missing, bad
or expired credentials, 4403 for an object the user may not read (or that does
not exist: the two look the same). The socket is accepted first and then
closed, since a refused handshake carries no code.

No gap between snapshot and stream: the socket joins the run's group before
it reads the snapshot, so every commit after the read also reaches it; what
arrives meanwhile waits in the channel, and messages the snapshot already
reflects (``seq`` <= its ``seq``) are dropped by :class:`RunOrdering`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from typing import Any

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings

from executions import broadcast, selectors, services
from executions.live import auth, revocation
from executions.live.ordering import Message, RunOrdering
from executions.models import Execution
from flowbuilder.api.errors import ApplicationError, Forbidden, NotFound, Unauthorized
from flowbuilder.timestamps import utc_iso

logger = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
FINAL_MESSAGES = ("execution_completed", "execution_failed")
CLOSE_UNAUTHORIZED = 4401
CLOSE_FORBIDDEN = 4403
LOG_PERMISSION = "log:read"


def now_iso() -> str:
    return utc_iso()


class FrameCache:
    """The JSON text of recent run messages, encoded once per process.

    Every socket following a run sends the same frames (a hundred watching one
    workflow encode each message a hundred times otherwise); a run's ``seq``
    names one message, so (run, seq) is the key.
    """

    def __init__(self, size: int = 4096) -> None:
        self.size = size
        self._texts: OrderedDict[tuple[str, int], str] = OrderedDict()

    def text(self, message: Message) -> str:
        seq = message.get("seq")
        if not isinstance(seq, int):
            return json.dumps(message, default=str)
        key = (str(message.get("execution_id")), seq)
        text = self._texts.get(key)
        if text is None:
            text = self._texts[key] = json.dumps(message, default=str)
            if len(self._texts) > self.size:
                self._texts.popitem(last=False)
        return text


frames = FrameCache()


class LiveConsumer(AsyncWebsocketConsumer):
    """Authenticate, authorise, join, then relay the runs' messages in order (subclasses name what to follow)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.principal: auth.Principal | None = None
        self.permissions: frozenset[str] = frozenset()
        self.ordering = RunOrdering()
        self.lock = asyncio.Lock()  # one writer of the ordering and of update frames at a time
        self.heartbeat: asyncio.Task[None] | None = None
        self.gap_timer: asyncio.TimerHandle | None = None
        self.gap_task: asyncio.Task[None] | None = None
        self.credentials: auth.Credentials | None = None
        self.expiry: asyncio.TimerHandle | None = None

    # --- subclasses -----------------------------------------------------------------------

    async def authorize(self, principal: auth.Principal) -> list[str]:
        """Check access (raise NotFound or Forbidden), set ``self.permissions``; answer the groups to join."""
        raise NotImplementedError

    async def joined(self) -> None:
        """Send what the client sees first, and tell the ordering where each run stands."""

    async def fill_gap(self, execution_id: str) -> None:
        """A run's gap did not fill in time: by default, go on without the missing messages."""
        await self.send_messages(self.ordering.skip_gap(execution_id, now=time.monotonic()))

    # --- connecting -----------------------------------------------------------------------

    async def connect(self) -> None:
        credentials = auth.credentials_from_scope(self.scope)
        await self.accept(credentials.subprotocol)
        try:
            principal = await database_sync_to_async(auth.authenticate_scope)(self.scope, credentials)
        except Unauthorized:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            groups = await self.authorize(principal)
        except (NotFound, Forbidden):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        # Also the user's access group: revocations (revocation.py) make the socket check again.
        for group in [*groups, revocation.access_group(principal.user.pk)]:
            await self.channel_layer.group_add(group, self.channel_name)
            self.groups.append(group)  # channels discards them on disconnect
        self.credentials, self.principal = credentials, principal
        self._close_at_expiry(principal)
        await self.joined()
        self.heartbeat = asyncio.create_task(self._heartbeat())

    async def disconnect(self, code: int) -> None:
        for task in (self.heartbeat, self.gap_task):
            if task is not None:
                task.cancel()
        for timer in (self.gap_timer, self.expiry):
            if timer is not None:
                timer.cancel()

    def _close_at_expiry(self, principal: auth.Principal) -> None:
        """Credentials that expire close the socket when they do (4401), as the next request would be refused."""
        if self.expiry is not None:
            self.expiry.cancel()
            self.expiry = None
        if principal.expires_at is not None:
            delay = max(0.0, principal.expires_at - time.time())
            self.expiry = asyncio.get_running_loop().call_later(
                delay, lambda: asyncio.ensure_future(self.close(code=CLOSE_UNAUTHORIZED))
            )

    async def access_revoked(self, event: dict[str, Any]) -> None:
        """The user's access shrank somewhere: authenticate and authorise again, or close."""
        if self.principal is None or self.credentials is None:
            return
        try:
            principal = await database_sync_to_async(auth.authenticate_scope)(self.scope, self.credentials)
        except Unauthorized:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        try:
            await self.authorize(principal)
        except (NotFound, Forbidden):
            await self.close(code=CLOSE_FORBIDDEN)
            return
        self.principal = principal
        self._close_at_expiry(principal)

    async def _heartbeat(self) -> None:
        interval = settings.FLOWBUILDER_LIVE_HEARTBEAT_SECONDS
        while True:
            await asyncio.sleep(interval)
            await self.send_json({"type": "ping", "timestamp": now_iso()})

    # --- relaying -------------------------------------------------------------------------

    async def dispatch(self, message: dict[str, Any]) -> None:
        if message["type"] == broadcast.MESSAGE_TYPE:
            # The hot path touches no database: skip channels' per-message close_old_connections thread hop.
            await self.execution_events(message)
        else:
            await super().dispatch(message)

    async def execution_events(self, event: dict[str, Any]) -> None:
        if self.principal is None:
            return
        now = time.monotonic()
        async with self.lock:
            ready = [out for message in event["messages"] for out in self.ordering.push(message, now=now)]
            await self.send_messages(ready)
        self._watch_gaps()

    async def send_messages(self, messages: list[Message]) -> None:
        for message in messages:
            if message.get("type") == "log" and LOG_PERMISSION not in self.permissions:
                continue
            await self.send(text_data=frames.text(message))

    async def send_json(self, content: dict[str, Any]) -> None:
        await self.send(text_data=json.dumps(content, default=str))

    def _watch_gaps(self) -> None:
        if self.gap_timer is None and (self.gap_task is None or self.gap_task.done()) and self.ordering.waiting():
            loop = asyncio.get_running_loop()
            self.gap_timer = loop.call_later(settings.FLOWBUILDER_LIVE_REORDER_SECONDS, self._gaps_due)

    def _gaps_due(self) -> None:
        self.gap_timer = None
        self.gap_task = asyncio.ensure_future(self._resolve_gaps())

    async def _resolve_gaps(self) -> None:
        window = settings.FLOWBUILDER_LIVE_REORDER_SECONDS
        async with self.lock:
            for execution_id in self.ordering.overdue(now=time.monotonic(), window=window):
                logger.info("Live socket: a gap in run %s did not fill within %ss", execution_id, window)
                await self.fill_gap(execution_id)
        self.gap_task = None
        self._watch_gaps()

    # --- from the client --------------------------------------------------------------------

    async def receive(self, text_data: str | None = None, bytes_data: bytes | None = None) -> None:
        if self.principal is None:
            return  # closed with 4401/4403; the disconnect is on its way
        try:
            content = json.loads(text_data) if text_data is not None else None
        except ValueError:
            content = None
        kind = content.get("type") if isinstance(content, dict) else None
        if kind == "ping":
            await self.send_json({"type": "pong", "timestamp": now_iso()})
        elif kind == "cancel":
            await self.cancel()
        else:
            await self.send_error("VALIDATION_ERROR", 'Send JSON objects: {"type": "ping"} or {"type": "cancel"}')

    async def cancel(self) -> None:
        await self.send_error("VALIDATION_ERROR", "Only an execution socket can cancel its run")

    async def send_error(self, code: str, message: str) -> None:
        await self.send_json({"type": "error", "code": code, "message": message})


class ExecutionConsumer(LiveConsumer):
    """``ws/executions/{id}/``: a snapshot of the run, then its updates."""

    execution_id = ""

    async def authorize(self, principal: auth.Principal) -> list[str]:
        access = await database_sync_to_async(auth.execution_access)(
            principal, self.scope["url_route"]["kwargs"]["execution_id"]
        )
        self.permissions = access.permissions
        self.execution_id = access.execution_id or ""
        return [broadcast.execution_group(self.execution_id)]

    async def joined(self) -> None:
        await self.send_snapshot()

    async def fill_gap(self, execution_id: str) -> None:
        await self.send_snapshot()  # the database has what the lost messages said

    async def send_snapshot(self) -> None:
        snapshot = await database_sync_to_async(selectors.execution_live_snapshot)(self.execution_id)
        if snapshot is None:  # deleted meanwhile
            await self.close(code=CLOSE_FORBIDDEN)
            return
        released = self.ordering.restart(self.execution_id, snapshot["seq"] + 1, now=time.monotonic())
        await self.send_json({"type": "snapshot", **snapshot, "timestamp": now_iso()})
        if snapshot["status"] in Execution.FINISHED:  # nothing more will come: a client's loop can end
            await self.close(code=CLOSE_NORMAL)
            return
        await self.send_messages(released)

    async def send_messages(self, messages: list[Message]) -> None:
        await super().send_messages(messages)
        if any(m.get("type") in FINAL_MESSAGES and m.get("execution_id") == self.execution_id for m in messages):
            await self.close(code=CLOSE_NORMAL)  # after the run's final message

    async def cancel(self) -> None:
        if "execution:cancel" not in self.permissions:
            await self.send_error("FORBIDDEN", "Your access to this workflow does not include execution:cancel")
            return
        user = self.principal.user if self.principal else None
        try:
            await database_sync_to_async(_cancel)(self.execution_id, f"Cancelled by {user.email if user else 'a user'}")
        except ApplicationError as exc:
            await self.send_error(exc.code, exc.message)


def _cancel(execution_id: str, reason: str) -> None:
    """Raises NotFound for a run deleted meanwhile, Conflict (from the service) for one that ended."""
    execution = Execution.objects.only("pk", "status").filter(pk=execution_id).first()
    if execution is None:
        raise NotFound("Execution not found")
    services.execution_cancel(execution=execution, reason=reason)


class WorkflowConsumer(LiveConsumer):
    """``ws/workflows/{id}/``: the workflow's active runs, then every run's updates."""

    workflow_id = ""

    async def authorize(self, principal: auth.Principal) -> list[str]:
        access = await database_sync_to_async(auth.workflow_access)(
            principal, self.scope["url_route"]["kwargs"]["workflow_id"]
        )
        self.permissions = access.permissions
        self.workflow_id = access.workflow_id
        return [broadcast.workflow_group(self.workflow_id)]

    async def joined(self) -> None:
        runs = await database_sync_to_async(selectors.workflow_active_runs)(self.workflow_id)
        for run in runs:
            self.ordering.expect(run["execution_id"], run["seq"] + 1)
        await self.send_json(
            {
                "type": "active_executions",
                "workflow_id": self.workflow_id,
                "executions": runs[: selectors.ACTIVE_RUNS_LISTED],
                "timestamp": now_iso(),
            }
        )


class NotificationConsumer(LiveConsumer):
    """``ws/notifications/``: the updates of every run of the user's workflows."""

    async def authorize(self, principal: auth.Principal) -> list[str]:
        self.permissions = auth.notifications_access(principal)
        return [broadcast.user_group(principal.user.pk)]

    async def joined(self) -> None:
        assert self.principal is not None
        seqs = await database_sync_to_async(selectors.owner_active_run_seqs)(self.principal.user)
        for execution_id, seq in seqs.items():
            self.ordering.expect(execution_id, seq + 1)
        await self.send_json({"type": "subscribed", "user_id": str(self.principal.user.pk), "timestamp": now_iso()})


class UnknownPathConsumer(AsyncWebsocketConsumer):
    """Any other websocket path: refused at the handshake (HTTP 403), as a wrong URL should be."""

    async def connect(self) -> None:
        await self.close()
