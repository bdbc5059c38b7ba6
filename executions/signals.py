"""Signals other apps listen to (outgoing webhooks, metrics); core logic never hangs off them."""

from __future__ import annotations

from django.dispatch import Signal

# Sent by the execution_finished task once a run has ended; kwargs: execution.
execution_finished = Signal()
