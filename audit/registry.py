"""The audited models: their row changes become audit events through model signals.

Signals decouple the audit app from the apps it watches (they need not
import it), and run synchronously inside the caller's transaction, so a
change made through a service, the admin (``save_model``, ``delete_model``,
actions) or a management command is recorded in the same transaction as
the change. ``QuerySet.update()`` and ``bulk_create`` send no signals: the
models below are written through ``save()``; hot engine rows (executions,
steps, logs) are not registered, their services call ``audit_record``
instead.

Another app plugs in with one line, in its ``AppConfig.ready()`` or in
:data:`AUDITED_MODELS` below::

    audit_register("integrations.Credential", name="credential", secret_fields=("data",))
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.db import models
from django.db.models.signals import m2m_changed, post_delete, post_save, pre_save

from audit.redaction import clean_value

# action(kind, changes) -> an action name, or None for the default "<name>.<kind>".
ActionNamer = Callable[[str, dict[str, Any]], str | None]


@dataclass(frozen=True)
class AuditedModel:
    model: type[models.Model]
    name: str
    exclude: frozenset[str]
    secret_fields: frozenset[str]
    m2m: tuple[str, ...]
    action: ActionNamer | None

    def fields(self) -> list[models.Field]:
        return [
            f
            for f in self.model._meta.concrete_fields
            if f.name not in self.exclude and f.attname not in self.exclude and not f.primary_key
        ]

    def value(self, name: str, raw: Any) -> Any:
        return clean_value(name, raw, secret_fields=self.secret_fields)

    def action_for(self, kind: str, changes: dict[str, Any]) -> str:
        return (self.action(kind, changes) if self.action else None) or f"{self.name}.{kind}"


_registry: dict[type[models.Model], AuditedModel] = {}


def _revoked(kind: str, changes: dict[str, Any]) -> str | None:
    if kind == "updated" and (changes.get("revoked_at") or {}).get("new"):
        return "api_key.revoked"
    return None


# Models of this project and of django-celery-beat whose changes are audited,
# by label: entries of apps that are not installed are skipped.
AUDITED_MODELS: dict[str, dict[str, Any]] = {
    "accounts.User": {"name": "user", "exclude": ("last_login",), "m2m": ("groups", "user_permissions")},
    "auth.Group": {"name": "role", "m2m": ("permissions",)},
    "accounts.ApiKey": {"name": "api_key", "exclude": ("last_used_at",), "action": _revoked},
    "workflows.Workflow": {"name": "workflow", "exclude": ("updated_at",), "m2m": ("tags",)},
    "workflows.WorkflowShare": {"name": "workflow_share"},
    "workflows.Tag": {"name": "tag"},
    # Secrets: encrypted_data is redacted by name as well; the masked hint is meant to be shown.
    "integrations.Credential": {
        "name": "credential",
        "exclude": ("last_used_at", "updated_at"),
        "secret_fields": ("encrypted_data",),
    },
    "integrations.Integration": {"name": "integration", "exclude": ("updated_at",)},
    "templates_app.Template": {"name": "template", "exclude": ("updated_at", "usage_count")},
    # Processing state is the engine's; uploads, renames and deletes are what is audited.
    "files.StoredFile": {
        "name": "file",
        "exclude": ("updated_at", "status", "processing_result", "execution", "workflow"),
    },
    "django_celery_beat.PeriodicTask": {
        "name": "periodic_task",
        "exclude": ("last_run_at", "total_run_count", "date_changed"),
    },
    "django_celery_beat.CrontabSchedule": {"name": "crontab_schedule"},
    "django_celery_beat.IntervalSchedule": {"name": "interval_schedule"},
}


def audit_register(
    model: type[models.Model] | str,
    *,
    name: str | None = None,
    exclude: Iterable[str] = (),
    secret_fields: Iterable[str] = (),
    m2m: Iterable[str] = (),
    action: ActionNamer | None = None,
) -> None:
    """Audit ``model``'s creates, updates and deletes (and changes of its ``m2m`` fields).

    ``exclude`` names fields whose changes are not worth an event (timestamps
    the system bumps); ``secret_fields`` are always stored as ``[redacted]``
    (besides every secret-named field). Registering twice replaces the options.
    """
    if isinstance(model, str):
        model = apps.get_model(model)
    label = model._meta.label_lower
    entry = AuditedModel(
        model=model,
        name=name or model._meta.model_name,
        exclude=frozenset(exclude),
        secret_fields=frozenset(secret_fields),
        m2m=tuple(m2m),
        action=action,
    )
    _registry[model] = entry
    uid = f"audit:{label}"
    pre_save.connect(_pre_save, sender=model, dispatch_uid=f"{uid}:pre_save")
    post_save.connect(_post_save, sender=model, dispatch_uid=f"{uid}:post_save")
    post_delete.connect(_post_delete, sender=model, dispatch_uid=f"{uid}:post_delete")
    for field_name in entry.m2m:
        through = model._meta.get_field(field_name).remote_field.through
        m2m_changed.connect(_m2m_changed, sender=through, dispatch_uid=f"{uid}:m2m:{field_name}")


def register_defaults() -> None:
    """Register :data:`AUDITED_MODELS`, skipping those whose app is not installed."""
    for label, options in AUDITED_MODELS.items():
        try:
            audit_register(label, **options)
        except LookupError:
            continue


def registered(model: type[models.Model]) -> AuditedModel | None:
    return _registry.get(model)


# --- receivers ---------------------------------------------------------------------------


def _record(entry: AuditedModel, instance: models.Model, kind: str, changes: dict[str, Any], **kwargs: Any) -> None:
    from audit.services import audit_record

    audit_record(action=entry.action_for(kind, changes), obj=instance, changes=changes, redacted=True, **kwargs)


def _pre_save(sender: type[models.Model], instance: models.Model, raw: bool = False, **kwargs: Any) -> None:
    entry = _registry.get(sender)
    instance._audit_before = None  # type: ignore[attr-defined]
    if entry is None or raw or instance._state.adding or instance.pk is None:
        return
    fields = entry.fields()
    update_fields = kwargs.get("update_fields")
    if update_fields is not None:
        fields = [f for f in fields if f.name in update_fields or f.attname in update_fields]
        if not fields:
            return
    before = sender._base_manager.filter(pk=instance.pk).values(*(f.attname for f in fields)).first()
    instance._audit_before = (fields, before)  # type: ignore[attr-defined]


def _post_save(
    sender: type[models.Model], instance: models.Model, created: bool, raw: bool = False, **kwargs: Any
) -> None:
    entry = _registry.get(sender)
    if entry is None or raw:
        return
    if created:
        changes = {
            f.name: {"new": entry.value(f.name, f.value_from_object(instance))}
            for f in entry.fields()
            if f.value_from_object(instance) not in (None, "")
        }
        _record(entry, instance, "created", changes)
        return
    state = getattr(instance, "_audit_before", None)
    if state is None:
        return
    fields, before = state
    if before is None:  # saved with a pk that was not in the table: a create in disguise
        before = {}
    changes = {}
    for f in fields:
        old, new = before.get(f.attname), f.value_from_object(instance)
        if old != new:
            changes[f.name] = {"old": entry.value(f.name, old), "new": entry.value(f.name, new)}
    if changes:
        _record(entry, instance, "updated", changes)


def _post_delete(sender: type[models.Model], instance: models.Model, **kwargs: Any) -> None:
    entry = _registry.get(sender)
    if entry is None:
        return
    from audit.context import current

    snapshot = {
        f.name: {"old": entry.value(f.name, f.value_from_object(instance))}
        for f in entry.fields()
        if f.value_from_object(instance) not in (None, "")
    }
    extra: dict[str, Any] = {}
    actor = current().resolve_actor()
    if actor is not None and actor.pk == instance.pk and isinstance(instance, type(actor)):
        # A user deleting themselves: the row is gone, keep only the address.
        extra = {"actor": None, "actor_email": actor.email}
    _record(entry, instance, "deleted", snapshot, **extra)


def _m2m_changed(
    sender: type[models.Model],
    instance: models.Model,
    action: str,
    reverse: bool,
    model: type[models.Model],
    pk_set: set[Any] | None,
    **kwargs: Any,
) -> None:
    if reverse:
        return  # recorded from the forward side only (the admin and the services use it)
    entry = _registry.get(type(instance))
    if entry is None:
        return
    field_name = next(
        (n for n in entry.m2m if instance._meta.get_field(n).remote_field.through is sender),
        None,
    )
    if field_name is None:
        return
    if action == "pre_clear":
        instance._audit_cleared = [str(o) for o in getattr(instance, field_name).all()]  # type: ignore[attr-defined]
        return
    if action == "post_clear":
        removed = getattr(instance, "_audit_cleared", [])
        if removed:
            _record(entry, instance, "updated", {field_name: {"removed": sorted(removed)}})
        return
    if action not in ("post_add", "post_remove") or not pk_set:
        return
    names = sorted(str(o) for o in model._base_manager.filter(pk__in=pk_set))
    key = "added" if action == "post_add" else "removed"
    _record(entry, instance, "updated", {field_name: {key: names}})
