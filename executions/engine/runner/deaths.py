"""Work whose worker keeps dying is not tried for ever.

A step, a run's start or a wait's resumption that kills its worker (an
expression or a plugin that exhausts memory, a native crash) would otherwise be
delivered again and kill the next worker, and the next. Each try is counted in
the row before the work begins, in its own committed statement, and taken back
when the work ends, whether it returned or raised: what stays counted are the
tries whose process died. Tries of the same work take turns (a lock that dies
with its process), so a second try running beside the first (a for_each's
children finishing together) is never mistaken for a dead one. After
``FLOWBUILDER_MAX_WORKER_DEATHS`` of them the work fails for good, and the run
follows the step's ``on_error``.

Dispatched steps count theirs when the recovery sweep finds their lease run out
(``recover_lost_step``): their redelivered message finds the step still
``running`` and does nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.conf import settings
from django.db import models, transaction
from django.db.models import F

from flowbuilder.locks import exclusive


def limit() -> int:
    return max(int(settings.FLOWBUILDER_MAX_WORKER_DEATHS), 1)


def message(what: str, deaths: int) -> str:
    """ "The worker running this step died 2 times; it is not retried again"."""
    return f"The worker {what} died {deaths} times; it is not retried again"


@contextmanager
def counted_try(model: type[models.Model], pk: Any, field: str, **condition: Any) -> Iterator[int | None]:
    """Count one try of the work on row ``pk`` (while it matches ``condition``), durably, first.

    Yields how many earlier tries died, or None when the row does not match (nothing to do).
    """
    with exclusive(f"{model._meta.label_lower}.{field}:{pk}"):
        rows = model._default_manager.filter(pk=pk, **condition)
        with transaction.atomic():
            if not rows.update(**{field: F(field) + 1}):
                died = None
            else:
                died = model._default_manager.filter(pk=pk).values_list(field, flat=True).get() - 1
        if died is None:
            yield None
            return
        try:
            yield died
        finally:
            with transaction.atomic():
                model._default_manager.filter(pk=pk, **{f"{field}__gt": 0}).update(**{field: F(field) - 1})
