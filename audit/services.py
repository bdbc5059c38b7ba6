"""Audit writes: record an event, purge old ones.

One writer, :func:`audit_record`, and one rule for who calls it:

- a change of a configuration row (users, roles, keys, workflows, shares,
  credentials, templates, files, webhooks, schedules: :data:`audit.registry.AUDITED_MODELS`)
  is recorded by the registry's model signals, whichever path made it (API,
  admin, command), and never by hand (that would record it twice);
- an action that is not such a row change (a login, a run started, cancelled
  or approved, a purge, a key rotation, a credential used) is recorded by the
  service that performs it. Runs are not registered models: their rows change
  several times a step, and reading each row before saving it would double the
  engine's writes; what a person did to a run is the action, not the diff.

Either way the row is written on the caller's database connection, inside its
transaction, so a rolled-back change leaves no event.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db import models
from django.utils import timezone

from audit.context import current
from audit.models import AuditEvent
from audit.redaction import clean_changes
from flowbuilder.batches import delete_in_batches

_UNSET: Any = object()


def object_type_of(obj: models.Model | type[models.Model]) -> str:
    return obj._meta.label_lower


def audit_record(
    *,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
    actor: Any = _UNSET,
    actor_email: str | None = None,
    object_type: str | None = None,
    object_id: Any = None,
    object_repr: str | None = None,
    redacted: bool = False,
) -> AuditEvent:
    """Write one audit event now, on the current transaction.

    ``actor`` defaults to the context's (the request's user, or the actor of
    an :func:`audit.context.audit_scope`); pass ``None`` for "nobody" (a
    failed login). ``changes`` is redacted (secret-named keys and
    credential-looking values) and each value bounded in size, unless the
    caller already did (``redacted=True``). The request's IP, user agent,
    request id and source (api, admin, web, cli, system) come from the context.
    Raises what the database raises: an event that cannot be written fails
    the change it describes.
    """
    context = current()
    if actor is _UNSET:
        actor = context.resolve_actor()
    if actor is not None and not getattr(actor, "is_authenticated", False):
        actor = None
    if obj is not None:
        object_type = object_type or object_type_of(obj)
        object_id = obj.pk if object_id is None else object_id
        object_repr = str(obj) if object_repr is None else object_repr
    return AuditEvent.objects.create(
        actor=actor,
        actor_email=(actor_email if actor_email is not None else getattr(actor, "email", "")) or "",
        action=action,
        object_type=object_type or "",
        object_id="" if object_id is None else str(object_id),
        object_repr=(object_repr or "")[:200],
        changes=(changes or {}) if redacted else clean_changes(changes),
        ip=context.ip,
        user_agent=context.user_agent,
        request_id=context.request_id,
        source=context.source,
    )


def audit_credential_use(
    *, credential: models.Model, execution: Any = None, node_id: str = "", purpose: str = "", actor: Any = _UNSET
) -> AuditEvent:
    """Record that ``credential``'s secret was decrypted for use (``credential.used``).

    Called where the integrations app hands out decrypted data: a run's step
    (``purpose="node"``, with the run and node), the AI gateway, a credential
    test. ``execution`` is the run (or its id); the actor is the context's (the
    request's user; nobody for a step, which runs without a request). Nothing of
    the secret is recorded, only which credential, where and why.
    """
    return audit_record(
        action="credential.used",
        obj=credential,
        actor=actor,
        changes={
            "execution_id": str(getattr(execution, "pk", execution)) if execution is not None else None,
            "node_id": node_id,
            "purpose": purpose,
        },
    )


def audit_purge(*, older_than: timedelta | None = None, dry_run: bool = False, batch_size: int = 5000) -> int:
    """Delete events older than ``older_than`` (default ``FLOWBUILDER_AUDIT_RETENTION_DAYS``); answers the count.

    A retention of 0 days keeps everything (and this deletes nothing). Deletes
    in batches so a large purge holds no long lock, then records the purge
    itself as an event.
    """
    if older_than is None:
        days = settings.FLOWBUILDER_AUDIT_RETENTION_DAYS
        if not days:
            return 0
        older_than = timedelta(days=days)
    cutoff = timezone.now() - older_than
    expired = AuditEvent.objects.filter(created_at__lt=cutoff)
    if dry_run:
        return expired.count()
    total = delete_in_batches(expired, batch_size=batch_size)
    if total:
        audit_record(action="audit.purged", changes={"deleted": total, "before": cutoff.isoformat()})
    return total
