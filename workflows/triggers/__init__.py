"""Incoming triggers: what starts a run from outside a person's click.

* :mod:`~workflows.triggers.webhook`: ``/hooks/<token>``: tokens, request checks (method, size,
  signature, replay), the per-workflow rate limit, starting the run and waiting for its reply.
* :mod:`~workflows.triggers.schedule`: schedule triggers as beat entries (one ``PeriodicTask``
  per workflow) and firing their ticks (misfire grace, overlap policy).

Not to be confused with the ``webhooks`` app, which sends outgoing run events.
"""
