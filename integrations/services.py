"""Writes: credentials (validated, encrypted, hinted), integrations, key rotation.

A credential's ``data`` is checked against its type's JSON Schema
(:mod:`integrations.credential_types`) and stored only encrypted; the masked
hint is computed here, from the plain data, once.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from accounts.models import User
from audit.services import audit_record
from flowbuilder.api.errors import Forbidden, ValidationFailed
from flowbuilder.ids import parse_uuid
from integrations import credential_types, crypto
from integrations.models import Credential, Integration

MAX_SETTINGS_BYTES = 64 * 1024


def _check_data(credential_type: str, data: Any) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise ValidationFailed("'data' must be an object", field="data")
    problems = credential_types.data_problems(credential_type, data)
    if problems:
        raise ValidationFailed("The credential's data is invalid", details=problems)
    return data


def _check_owner(owner: User) -> None:
    if owner.is_guest:
        raise Forbidden("Guest sessions cannot store credentials; register to keep credentials")


def _unique_name_error(name: str, what: str) -> ValidationFailed:
    return ValidationFailed(f"You already have {what} named '{name}'", field="name")


def _seal(credential: Credential, data: dict[str, Any]) -> None:
    credential.encrypted_data = crypto.encrypt(data)
    credential.hint = credential_types.hint_of(credential.type, data)


@transaction.atomic
def credential_create(*, owner: User, name: str, type: str, data: Any) -> Credential:
    _check_owner(owner)
    if type not in credential_types.TYPES:
        raise ValidationFailed(f"Unknown credential type '{type}'", field="type")
    credential = Credential(owner=owner, name=name, type=type)
    _seal(credential, _check_data(type, data))
    try:
        with transaction.atomic():
            credential.save()
    except IntegrityError:
        raise _unique_name_error(name, "a credential") from None
    return credential


def credential_data(credential: Credential) -> dict[str, Any]:
    """The decrypted data (for the engine, the tests of a credential and the AI gateway; never for responses)."""
    return crypto.decrypt(credential.encrypted_data)


@transaction.atomic
def credential_update(
    *, credential: Credential, name: str | None = None, data: Mapping[str, Any] | None = None
) -> Credential:
    """Rename, and/or change data: ``data`` is merged over the stored data (a ``null`` value removes a field).

    The type cannot change: a different kind of secret is a new credential.
    """
    locked = Credential.objects.select_for_update().get(pk=credential.pk)
    if name is not None:
        locked.name = name
    if data is not None:
        if not isinstance(data, Mapping):
            raise ValidationFailed("'data' must be an object", field="data")
        try:
            merged = {**credential_data(locked)}
        except crypto.DecryptionFailed:
            merged = {}  # a secret nobody can read any more may still be replaced whole
        for key, value in data.items():
            if value is None:
                merged.pop(key, None)
            else:
                merged[key] = value
        _seal(locked, _check_data(locked.type, merged))
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise _unique_name_error(locked.name, "a credential") from None
    return locked


class CredentialGone(Exception):
    pass


@transaction.atomic
def credential_refresh(
    *,
    credential_id: Any,
    owner_id: Any,
    seen: Mapping[str, Any],
    refresher: Callable[[dict[str, Any]], Mapping[str, Any]],
) -> dict[str, Any]:
    """Refresh a credential's tokens once, however many steps ask at the same time.

    Holds the credential's row lock across ``refresher`` (a bounded HTTP call):
    a step that finds the stored data changed since it read it (``seen``) takes
    the new tokens instead of refreshing again, which with rotating refresh
    tokens would fail. Raises CredentialGone if it was deleted.
    """
    locked = Credential.objects.select_for_update().filter(pk=credential_id, owner_id=owner_id).first()
    if locked is None:
        raise CredentialGone(str(credential_id))
    current = credential_data(locked)
    if current != dict(seen):
        return current
    fresh = {**current, **refresher(current)}
    _seal(locked, fresh)
    locked.save(update_fields=["encrypted_data", "hint", "updated_at"])
    return fresh


LAST_USED_RESOLUTION = timedelta(seconds=60)


def credential_touch(*, credential_id: Any) -> None:
    """Record a use; at most once a minute, so parallel steps do not queue on the credential's row."""
    now = timezone.now()
    Credential.objects.filter(pk=credential_id).filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - LAST_USED_RESOLUTION)
    ).update(last_used_at=now)


@transaction.atomic
def credential_delete(*, credential: Credential) -> None:
    credential.delete()


# --- integrations -------------------------------------------------------------------------------


def _owned_credential(owner: User, credential_id: Any) -> Credential | None:
    if credential_id in (None, ""):
        return None
    key = parse_uuid(credential_id)
    credential = Credential.objects.filter(owner=owner, pk=key).first() if key else None
    if credential is None:
        raise ValidationFailed("Credential not found", field="credential")
    return credential


def _check_settings(settings_value: Any) -> dict[str, Any]:
    import json

    if not isinstance(settings_value, dict):
        raise ValidationFailed("'settings' must be an object", field="settings")
    if len(json.dumps(settings_value)) > MAX_SETTINGS_BYTES:
        raise ValidationFailed(f"'settings' may be at most {MAX_SETTINGS_BYTES:,} bytes", field="settings")
    return settings_value


_UNSET: Any = object()


@transaction.atomic
def integration_create(
    *, owner: User, type: str, name: str, settings: Any = None, credential_id: Any = None
) -> Integration:
    _check_owner(owner)
    integration = Integration(
        owner=owner,
        type=type,
        name=name,
        settings=_check_settings(settings if settings is not None else {}),
        credential=_owned_credential(owner, credential_id),
    )
    try:
        with transaction.atomic():
            integration.save()
    except IntegrityError:
        raise _unique_name_error(name, "an integration") from None
    return integration


@transaction.atomic
def integration_update(
    *,
    integration: Integration,
    type: str | None = None,
    name: str | None = None,
    settings: Any = None,
    credential_id: Any = _UNSET,
) -> Integration:
    """Change the given fields; ``credential_id=None`` detaches the credential."""
    locked = Integration.objects.select_for_update().get(pk=integration.pk)
    if type is not None:
        locked.type = type
    if name is not None:
        locked.name = name
    if settings is not None:
        locked.settings = _check_settings(settings)
    if credential_id is not _UNSET:
        locked.credential = _owned_credential(locked.owner, credential_id)
    try:
        with transaction.atomic():
            locked.save()
    except IntegrityError:
        raise _unique_name_error(locked.name, "an integration") from None
    return locked


@transaction.atomic
def integration_delete(*, integration: Integration) -> None:
    integration.delete()


# --- key rotation --------------------------------------------------------------------------------


@dataclass
class RotationReport:
    total: int = 0
    rotated: int = 0
    current: int = 0
    unreadable: list[str] | None = None


# (model, field) pairs holding Fernet tokens; other apps that encrypt secrets add theirs here.
ENCRYPTED_FIELDS: list[tuple[type, str]] = [(Credential, "encrypted_data")]


def encryption_key_rotate(
    *, batch_size: int = 200, dry_run: bool = False, progress: Callable[[RotationReport], None] | None = None
) -> RotationReport:
    """Re-encrypt every secret under the first of ``FLOWBUILDER_ENCRYPTION_KEYS``.

    Idempotent and online: rows already under the first key are left alone;
    each batch is locked and rewritten in its own short transaction, while the
    old keys keep decrypting whatever has not been reached yet. Rows no key
    opens are reported, not touched.
    """
    report = RotationReport(unreadable=[])
    for model, field_name in ENCRYPTED_FIELDS:
        last_pk = None
        while True:
            with transaction.atomic():
                rows = model.objects.select_for_update().order_by("pk").only("pk", field_name)
                if last_pk is not None:
                    rows = rows.filter(pk__gt=last_pk)
                batch = list(rows[:batch_size])
                if not batch:
                    break
                changed = []
                for row in batch:
                    report.total += 1
                    token = getattr(row, field_name)
                    if crypto.is_current(token):
                        report.current += 1
                        continue
                    try:
                        setattr(row, field_name, crypto.rotate(token))
                    except crypto.DecryptionFailed:
                        report.unreadable.append(f"{model._meta.label} {row.pk}")
                        continue
                    changed.append(row)
                    report.rotated += 1
                if changed and not dry_run:
                    model.objects.bulk_update(changed, [field_name])
                last_pk = batch[-1].pk
            if progress:
                progress(report)
    if report.rotated and not dry_run:
        # bulk_update sends no model signals: the rotation is recorded as one event.
        audit_record(action="credentials.key_rotated", changes={"rotated": report.rotated, "total": report.total})
    return report
