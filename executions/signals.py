"""Signals other apps listen to (outgoing webhooks, metrics); core logic never hangs off them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent after commit once execution_start has accepted a run (top-level runs, retries and reruns; not the
# child runs of sub_workflow and for_each steps); kwargs: execution.
execution_started = Signal()

# Sent by the runner after the commit that ends a run (executions.engine.runner.finish); kwargs: execution.
execution_finished = Signal()
