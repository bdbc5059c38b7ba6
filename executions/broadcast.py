"""The one way execution events leave the process: channel-layer groups, after commit.

Each committed state change of a run becomes a batch of messages with the
shape of SPEC §4 and a per-execution sequence number, sent to the groups of
the execution, its workflow and its owner. Sending happens on one background
event loop per process, in order, so a worker never waits on the channel
layer and each group sees this process's events in sequence.

Contract for receivers (``executions/live``): a channel-layer message is
``{"type": "execution.events", "messages": [...]}``; within one message and
across the messages one process sends to a group, a run's ``seq`` only grows.
Runs whose steps finish in different processes may reach a group slightly out
of order, a lost publish leaves a gap, and channels-redis may deliver a
message twice: receivers order by ``seq``, drop what they have seen, and
re-read the run's state when a gap does not fill.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
from collections.abc import Iterable
from concurrent.futures import TimeoutError as FutureTimeoutError
from typing import Any

from channels.layers import get_channel_layer

from executions.models import Execution
from flowbuilder.timestamps import utc_iso

logger = logging.getLogger(__name__)

MESSAGE_TYPE = "execution.events"  # the consumers' handler: execution_events
# A backlog (the channel layer slow or down) is sent merged, this many messages per send at most.
MAX_MESSAGES_PER_SEND = 200
# Batches waiting beyond this are dropped (live updates are best effort; the database has the truth).
MAX_QUEUED_BATCHES = 10_000


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
    timestamp = utc_iso()
    return [
        {
            "type": event["type"],
            "execution_id": snapshot["execution_id"],
            "workflow_id": snapshot["workflow_id"],
            "status": snapshot["status"],
            "progress": snapshot["progress"],
            "current_step": snapshot["current_step"],
            "data": event.get("data", {}),
            # The run's result at the top level too: seed 002's client reads message.output_data / .error.
            **{key: event["data"][key] for key in ("output_data", "error") if key in event.get("data", {})},
            "timestamp": timestamp,
            "seq": first_seq + index,
        }
        for index, event in enumerate(events)
    ]


Batch = tuple[list[str], list[dict[str, Any]]]


def merge_batches(batches: list[Batch], *, limit: int = MAX_MESSAGES_PER_SEND) -> list[Batch]:
    """Queued batches as few sends as possible, in order: consecutive batches for the same groups
    (the same run) become one, of at most ``limit`` messages."""
    merged: list[Batch] = []
    for groups, messages in batches:
        for start in range(0, len(messages), limit):
            chunk = messages[start : start + limit]
            if merged and merged[-1][0] == groups and len(merged[-1][1]) + len(chunk) <= limit:
                merged[-1] = (groups, merged[-1][1] + chunk)
            else:
                merged.append((groups, list(chunk)))
    return merged


class _Sender:
    """A daemon thread running an event loop that sends queued batches in order.

    A batch goes to its three groups at once (``group_send_many`` where the
    layer has it, else concurrent ``group_send``s). Batches of one run that
    queued up while a send was in flight go out together, as one message.
    """

    def __init__(self) -> None:
        self.pid = os.getpid()
        self.loop = asyncio.new_event_loop()
        self.queue: asyncio.Queue[Batch] | None = None
        self.dropped = 0
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
        assert self.queue is not None
        while True:
            batches = [await self.queue.get()]
            while not self.queue.empty():
                batches.append(self.queue.get_nowait())
            try:
                layer = get_channel_layer()  # looked up each time: tests swap the setting
                for groups, messages in merge_batches(batches):
                    await self._send(layer, groups, {"type": MESSAGE_TYPE, "messages": messages})
            finally:
                for _ in batches:
                    self.queue.task_done()

    @staticmethod
    async def _send(layer: Any, groups: list[str], message: dict[str, Any]) -> None:
        try:
            send_many = getattr(layer, "group_send_many", None)  # flowbuilder.channel_layers: one pass for all
            if send_many is not None:
                await send_many(groups, message)
            else:
                await asyncio.gather(*(layer.group_send(group, message) for group in groups))
        except Exception:  # live updates are best effort; the database has the truth
            logger.exception("Could not publish to %s", groups)

    def _enqueue(self, batch: Batch) -> None:
        assert self.queue is not None
        if self.queue.qsize() >= MAX_QUEUED_BATCHES:
            self.dropped += 1
            if self.dropped % 1000 == 1:
                logger.warning("The channel layer is not keeping up: %d event batches dropped", self.dropped)
            return
        self.queue.put_nowait(batch)

    def send(self, groups: list[str], messages: list[dict[str, Any]]) -> None:
        self.loop.call_soon_threadsafe(self._enqueue, (groups, messages))

    def flush(self, timeout: float) -> bool:
        """Wait until everything queued so far was handed to the channel layer; False on timeout."""
        assert self.queue is not None
        queue = self.queue

        async def joined() -> None:
            await queue.join()

        future = asyncio.run_coroutine_threadsafe(joined(), self.loop)
        try:
            future.result(timeout)
        except FutureTimeoutError:
            future.cancel()
            return False
        return True


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
    _get_sender().send(groups, messages)


def flush(timeout: float = 5.0) -> bool:
    """Wait until this process's published events reached the channel layer (tests, benchmarks, shutdown)."""
    return _get_sender().flush(timeout)
