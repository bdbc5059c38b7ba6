"""The runner: pure orchestration of a run's steps (no Celery here).

Every state change of an execution happens in a transaction holding the
execution's row lock (:class:`~executions.engine.runner.state.Run`), which
serialises the completions of parallel branches. In it the runner records a
step's result, runs the pure (``inline``) nodes that became ready right there,
marks the others queued, and decides when the run is over. The work to do next,
and the events, leave only after commit (``transaction.on_commit``): tasks
through :mod:`executions.engine.dispatch`, events through
:mod:`executions.broadcast`.

Readiness: a node with one inbound edge runs when that edge is resolved and
taken (its source finished and chose that port), and is skipped when it is not,
which propagates down a branch. A node with several runs once all are resolved
and at least one was taken (skipped when none was); a node type may declare its
own rule (``merge``'s ``first``). See the engine README.

The modules, each depending only on those above it:

* ``state``: the locked :class:`Run`, loading and saving it, the version's graph;
* ``attempt``: one attempt of a node, the one place node code is called;
* ``children``: starting child runs from a step;
* ``finish``: when a run is over, its output, ending and cancelling it;
* ``results``: recording an attempt's output, failure (and retry) or wait;
* ``advance``: readiness and the decision loop, inline nodes;
* ``start``: a run's start;
* ``dispatched``: dispatched steps (claim, execute, record, go on with the run's next: eager
  continuation), the start followed by the first of them, and steps of dead workers;
* ``waiting``: waits that end (a wake time, a decision, a child's result).
"""

from __future__ import annotations

from executions.engine.runner.attempt import attempt
from executions.engine.runner.children import send_start
from executions.engine.runner.dispatched import (
    claim_step,
    complete_step,
    execute_step,
    recover_lost_step,
    start_execution,
)
from executions.engine.runner.finish import cancel_execution
from executions.engine.runner.start import start_here
from executions.engine.runner.state import WORKER_NAME, Outcome, Run, graph_for_version, load_run, save_run
from executions.engine.runner.waiting import child_finished, resume_step, wake_due_step

__all__ = [
    "WORKER_NAME",
    "Outcome",
    "Run",
    "attempt",
    "cancel_execution",
    "child_finished",
    "claim_step",
    "complete_step",
    "execute_step",
    "graph_for_version",
    "load_run",
    "recover_lost_step",
    "resume_step",
    "save_run",
    "send_start",
    "start_execution",
    "start_here",
    "wake_due_step",
]
