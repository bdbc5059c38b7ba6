"""Deleting many rows without holding a long lock."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from flowbuilder.locks import give_up_on_locks


def delete_in_batches(queryset: QuerySet[Any], *, batch_size: int, order_by: str = "created_at") -> int:
    """Delete the rows of ``queryset`` ``batch_size`` at a time, oldest first, each batch its own transaction.

    Answers how many rows of ``queryset``'s model were deleted (rows that cascade from them are not counted).
    """
    model = queryset.model
    total = 0
    while True:
        with transaction.atomic():
            give_up_on_locks()
            batch = list(queryset.order_by(order_by).values_list("pk", flat=True)[:batch_size])
            if not batch:
                return total
            model.objects.filter(pk__in=batch).delete()
            total += len(batch)
