"""Putting one socket's messages in each run's ``seq`` order.

Events reach a socket through the channel layer in the order each process
published them; two processes finishing steps of the same run can interleave,
channels-redis may deliver a message twice, and a lost publish leaves a gap.
A socket therefore keeps, per run, the next ``seq`` it expects: older and
repeated messages are dropped, early ones are held until the gap fills. A gap
that does not fill within the reorder window is the caller's to resolve:
re-read the run (:meth:`RunOrdering.restart`) or give up on the missing
messages (:meth:`RunOrdering.skip_gap`).

Pure bookkeeping: no I/O, no clock of its own (callers pass ``now``).
"""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]


@dataclass
class _Run:
    next_seq: int
    held: dict[int, Message] = field(default_factory=dict)
    held_since: float = 0.0

    def release(self) -> list[Message]:
        out = []
        while self.next_seq in self.held:
            out.append(self.held.pop(self.next_seq))
            self.next_seq += 1
        return out


class RunOrdering:
    """Per-run ``seq`` ordering for one socket.

    A run seen for the first time is expected from ``first_seq`` (1: runs
    publish from seq 1, and sockets read the seq of the runs already going
    when they connect, see :meth:`expect`). At most ``max_runs`` runs are
    remembered; the least recently active is forgotten first.
    """

    def __init__(self, *, first_seq: int = 1, max_runs: int = 1024) -> None:
        self.first_seq = first_seq
        self.max_runs = max_runs
        self._runs: OrderedDict[str, _Run] = OrderedDict()

    def _run(self, execution_id: str) -> _Run:
        run = self._runs.get(execution_id)
        if run is None:
            run = self._runs[execution_id] = _Run(next_seq=self.first_seq)
            if len(self._runs) > self.max_runs:
                idle = next((key for key, r in self._runs.items() if not r.held), next(iter(self._runs)))
                del self._runs[idle]
        else:
            self._runs.move_to_end(execution_id)
        return run

    def expect(self, execution_id: str, next_seq: int) -> None:
        """The socket has shown ``execution_id`` up to ``next_seq - 1`` (a snapshot): only later messages pass."""
        self._runs.pop(execution_id, None)
        self._run(execution_id).next_seq = next_seq

    def next_seq(self, execution_id: str) -> int:
        run = self._runs.get(execution_id)
        return run.next_seq if run else self.first_seq

    def push(self, message: Message, *, now: float) -> list[Message]:
        """The messages that may be sent now, in order: ``message`` and any held ones it unblocks."""
        seq = message.get("seq")
        if not isinstance(seq, int):
            return [message]
        run = self._run(str(message.get("execution_id")))
        if seq < run.next_seq or seq in run.held:
            return []  # seen already (a snapshot covered it, or a duplicate delivery)
        if seq > run.next_seq:
            if not run.held:
                run.held_since = now
            run.held[seq] = message
            return []
        run.next_seq += 1
        return [message, *run.release()]

    def waiting(self) -> bool:
        return any(run.held for run in self._runs.values())

    def overdue(self, *, now: float, window: float) -> list[str]:
        """Runs whose oldest held message has waited ``window`` seconds or more."""
        return [key for key, run in self._runs.items() if run.held and now - run.held_since >= window]

    def skip_gap(self, execution_id: str, *, now: float) -> list[Message]:
        """Give up on the missing messages before the first held one; answers what that releases."""
        run = self._run(execution_id)
        if not run.held:
            return []
        run.next_seq = min(run.held)
        released = run.release()
        run.held_since = now
        return released

    def restart(self, execution_id: str, next_seq: int, *, now: float) -> list[Message]:
        """After re-reading the run up to ``next_seq - 1``: drop what that covers, release what follows."""
        run = self._run(execution_id)
        run.next_seq = max(run.next_seq, next_seq)
        for seq in [s for s in run.held if s < run.next_seq]:
            del run.held[seq]
        released = run.release()
        run.held_since = now
        return released
