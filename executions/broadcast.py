"""The one way execution events leave the process: channel-layer groups, after commit.

Each committed state change of a run becomes a batch of messages with the
shape of SPEC §4 and a per-execution sequence number, sent to the groups of
the execution, its workflow and its owner. Sending happens on one background
event loop per process, in order, so a worker never waits on the channel
layer and each group sees a run's events in sequence.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable
from typing import Any

from channels.layers import get_channel_layer
from django.utils import timezone

from executions.models import Execution

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "execution.events"  # the consumers' handler: execution_events


def execution_group(execution_id: Any) -> str:
    return f"execution.{execution_id}"


def workflow_group(workflow_id: Any) -> str:
    return f"workflow.{workflow_id}"


def user_group(user_id: Any) -> str:
    return f"user.{user_id}"


def execution_snapshot(execution: Execution) -> dict[str, Any]:
    return {
        "execution_id": str(execution.pk),
        "workflow_id": str(execution.workflow_id),
        "owner_id": str(execution.owner_id),
        "parent_id": str(execution.parent_id) if execution.parent_id else None,
        "status": execution.status,
        "progress": execution.progress,
        "current_step": execution.current_step,
    }


def build_messages(
    snapshot: dict[str, Any], events: Iterable[dict[str, Any]], *, first_seq: int
) -> list[dict[str, Any]]:
    timestamp = timezone.now().isoformat().replace("+00:00", "Z")
    return [
        {
            "type": event["type"],
            "execution_id": snapshot["execution_id"],
            "workflow_id": snapshot["workflow_id"],
            "status": snapshot["status"],
            "progress": snapshot["progress"],
            "current_step": snapshot["current_step"],
            "data": event.get("data", {}),
            "timestamp": timestamp,
            "seq": first_seq + index,
        }
        for index, event in enumerate(events)
    ]


class _Sender:
    """A daemon thread running an event loop that sends queued batches one after the other."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[tuple[list[str], dict[str, Any]]] | None = None
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), name="execution-events", daemon=True)
        self.thread.start()
        ready.wait()

    def _run(self, ready: threading.Event) -> None:
        asyncio.set_event_loop(self.loop)
        self.queue = asyncio.Queue()
        self.loop.create_task(self._drain())
        ready.set()
        self.loop.run_forever()

    async def _drain(self) -> None:
        layer = get_channel_layer()
        assert self.queue is not None
        while True:
            groups, message = await self.queue.get()
            for group in groups:
                try:
                    await layer.group_send(group, message)
                except Exception:  # live updates are best effort; the database has the truth
                    logger.exception("Could not publish to %s", group)
            self.queue.task_done()

    def send(self, groups: list[str], message: dict[str, Any]) -> None:
        assert self.queue is not None
        self.loop.call_soon_threadsafe(self.queue.put_nowait, (groups, message))


_sender: _Sender | None = None
_sender_lock = threading.Lock()


def _get_sender() -> _Sender:
    global _sender
    with _sender_lock:
        if _sender is None or _sender.pid != os.getpid():  # a forked worker needs its own thread
            _sender = _Sender()
        return _sender


def publish(snapshot: dict[str, Any], events: list[dict[str, Any]], *, first_seq: int) -> None:
    """Send a committed batch of a run's events to everyone following it."""
    if not events:
        return
    messages = build_messages(snapshot, events, first_seq=first_seq)
    groups = [
        execution_group(snapshot["execution_id"]),
        workflow_group(snapshot["workflow_id"]),
        user_group(snapshot["owner_id"]),
    ]
    _get_sender().send(groups, {"type": MESSAGE_TYPE, "messages": messages})
