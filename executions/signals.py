"""Signals other apps listen to (outgoing webhooks, files); core logic never hangs off them.

Both are sent *inside* the transaction that writes the change, after its rows are
written: a receiver records what must follow (an outgoing event's delivery row, a
file's status) in that same transaction, so it is stored if and only if the run
started or ended, whatever happens to the process after the commit. A receiver
does database work only, inside its own savepoint (``transaction.atomic()``), and
catches its errors: a failing listener must not undo a run's end. Work outside
the database (HTTP, e-mail) is queued by the rows it writes, and their sweeps
(``webhooks.sweep``, ``files.reconcile_processing``) find whatever a dead process
did not queue.
"""

from __future__ import annotations

from django.dispatch import Signal

# A run was accepted (top-level runs, retries and reruns; not the child runs of sub_workflow and
# for_each steps); kwargs: execution. Sent by executions.services.execution_start.
execution_started = Signal()

# A run ended; kwargs: execution, with its final status, output and error. Sent by the runner
# (executions.engine.runner.finish) once the run's rows are written, before the commit.
execution_finished = Signal()
