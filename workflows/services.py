"""Workflow writes: create, update with optimistic locking, versions, sharing, import, triggers.

Every definition is validated and stored canonical; every change to it makes
a new immutable :class:`WorkflowVersion`. Nothing is written when a check
fails. In the same transaction the trigger's outside state follows the
workflow: a webhook's token (:mod:`workflows.triggers.webhook`) and a schedule's beat
entry (:mod:`workflows.triggers.schedule`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.db import transaction

from accounts.models import User
from accounts.signals import access_changed
from executions.engine.validation import ValidationReport, validate_definition
from flowbuilder.api.errors import NotFound, ValidationFailed
from integrations.selectors import credential_checker
from workflows.errors import CredentialedNodeOwnerOnly, InvalidDefinition, NotAWebhook, StaleVersion
from workflows.importers import Imported, import_payload
from workflows.models import Tag, Workflow, WorkflowShare, WorkflowVersion
from workflows.selectors import workflow_version
from workflows.triggers import schedule, webhook

MAX_TAGS = 20


def definition_validate(*, definition: Any, owner: User | None = None) -> ValidationReport:
    """Validate (and normalise) a definition for ``owner``.

    With an owner, every credential a node names must be one of the owner's,
    of a type the node takes (whoever edits the workflow).
    """
    checker = credential_checker(owner) if owner is not None else None
    return validate_definition(definition, credential_checker=checker)


def _validated(
    definition: Any, owner: User, *, invalid: str = "The workflow definition is invalid"
) -> ValidationReport:
    """The report of a valid definition; raises InvalidDefinition with every problem otherwise."""
    report = definition_validate(definition=definition, owner=owner)
    if not report.valid:
        raise InvalidDefinition(invalid, details=report.errors)
    return report


def _clean_tags(tags: Iterable[str]) -> list[str]:
    cleaned = sorted({tag.strip().lower() for tag in tags if tag and tag.strip()})
    if len(cleaned) > MAX_TAGS:
        raise ValidationFailed(f"At most {MAX_TAGS} tags", field="tags")
    return cleaned


def _set_tags(workflow: Workflow, tags: Iterable[str]) -> None:
    names = _clean_tags(tags)
    existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    missing = [Tag(name=name) for name in names if name not in existing]
    if missing:
        Tag.objects.bulk_create(missing, ignore_conflicts=True)
        existing = {tag.name: tag for tag in Tag.objects.filter(name__in=names)}
    workflow.tags.set(existing.values())


@transaction.atomic
def workflow_create(
    *,
    owner: User,
    name: str,
    definition: Any,
    description: str = "",
    category: str = "",
    tags: Iterable[str] = (),
    is_active: bool = True,
    note: str = "",
    invalid: str = "The workflow definition is invalid",
) -> Workflow:
    """A new workflow at version 1; its ``validation_warnings`` are what validating the definition found."""
    report = _validated(definition, owner, invalid=invalid)
    canonical = report.definition
    workflow = Workflow(
        owner=owner,
        name=name,
        description=description,
        category=category,
        is_active=is_active,
        definition=canonical,
        version=1,
    )
    webhook.token_sync(workflow)
    workflow.save()
    schedule.schedule_sync(workflow=workflow)
    _set_tags(workflow, tags)
    WorkflowVersion.objects.create(
        workflow=workflow, number=1, definition=canonical, author=owner, note=note or "Created"
    )
    workflow.validation_warnings = report.warnings
    return workflow


@transaction.atomic
def workflow_update(
    *,
    workflow: Workflow,
    actor: User,
    expected_version: int | None = None,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    tags: Iterable[str] | None = None,
    is_active: bool | None = None,
    definition: Any = None,
    note: str = "",
) -> Workflow:
    """Apply the given fields; a changed definition becomes a new version.

    ``expected_version`` is the version the client edited: if another change
    landed since, raises Conflict and writes nothing.
    """
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if expected_version is not None and expected_version != locked.version:
        raise StaleVersion(
            f"The workflow is at version {locked.version}; your change was based on version {expected_version}. "
            "Reload it and apply your change again.",
            field="version",
        )
    for field_name, value in (
        ("name", name),
        ("description", description),
        ("category", category),
        ("is_active", is_active),
    ):
        if value is not None:
            setattr(locked, field_name, value)
    if definition is not None:
        canonical = _validated(definition, locked.owner).definition
        if actor.pk != locked.owner_id:
            _check_credentialed_nodes_unchanged(locked.definition, canonical)
        if canonical != locked.definition:
            locked.version += 1
            locked.definition = canonical
            WorkflowVersion.objects.create(
                workflow=locked, number=locked.version, definition=canonical, author=actor, note=note
            )
    webhook.token_sync(locked)
    locked.save()
    schedule.schedule_sync(workflow=locked)
    if tags is not None:
        _set_tags(locked, tags)
    return locked


def _check_credentialed_nodes_unchanged(current: dict[str, Any], proposed: dict[str, Any]) -> None:
    """Only the owner adds or changes a node that uses one of their credentials.

    A credential acts with the owner's authority; an editor who could point the node at
    another URL, host or header would receive the secret there. So the rule is n8n's for
    shared credentials: editors may use such nodes as they are (run, move, remove them,
    change every other node) but not add or alter one. Raises CredentialedNodeOwnerOnly at
    the node's path.
    """
    before = {n.get("id"): n for n in current.get("nodes", [])}
    for index, node in enumerate(proposed.get("nodes", [])):
        if not (node.get("config") or {}).get("credential"):
            continue
        old = before.get(node.get("id"))
        if old is None or old.get("type") != node.get("type") or old.get("config") != node.get("config"):
            raise CredentialedNodeOwnerOnly(
                f"Node '{node.get('id')}' uses a credential: only the workflow's owner may add or change it",
                field=f"definition.nodes[{index}]",
            )


@transaction.atomic
def workflow_version_restore(*, workflow: Workflow, number: int, actor: User) -> Workflow:
    """Make version ``number``'s definition current again, as a new version."""
    version = workflow_version(workflow, number)
    return workflow_update(
        workflow=workflow, actor=actor, definition=version.definition, note=f"Restored from version {number}"
    )


@transaction.atomic
def workflow_delete(*, workflow: Workflow) -> None:
    schedule.schedule_remove(workflow_id=workflow.pk)
    workflow.delete()


@transaction.atomic
def workflow_webhook_regenerate(*, workflow: Workflow) -> Workflow:
    """Give the webhook a new token; the old URL answers 404 from the commit on.

    Raises Conflict when the workflow's trigger is not a webhook.
    """
    locked = Workflow.objects.select_for_update().get(pk=workflow.pk)
    if webhook.webhook_config(locked) is None:
        raise NotAWebhook("The workflow's trigger is not a webhook", field="definition")
    locked.webhook_token = webhook.new_token()
    locked.save(update_fields=["webhook_token", "updated_at"])
    return locked


@transaction.atomic
def workflow_share(*, workflow: Workflow, email: str, role: str) -> WorkflowShare:
    user = User.objects.filter(email__iexact=email, is_active=True, is_guest=False).first()
    if user is None:
        raise ValidationFailed(f"No user with e-mail '{email}'", field="email")
    if user.pk == workflow.owner_id:
        raise ValidationFailed("The owner already has full access", field="email")
    share, _ = WorkflowShare.objects.update_or_create(workflow=workflow, user=user, defaults={"role": role})
    return share


@transaction.atomic
def workflow_unshare(*, workflow: Workflow, user_id: Any) -> None:
    deleted, _ = WorkflowShare.objects.filter(workflow=workflow, user_id=user_id).delete()
    if not deleted:
        raise NotFound("The workflow is not shared with that user")
    access_changed.send(sender=WorkflowShare, user_id=user_id)


def workflow_import(
    *, owner: User, payload: Any, name: str | None = None, is_active: bool = True
) -> tuple[Workflow, list[dict[str, Any]]]:
    """Create a workflow from an export, a seed workflow object or a bare definition.

    Returns the workflow and the import warnings (what was changed or dropped).
    """
    imported: Imported = import_payload(payload)
    workflow = workflow_create(
        owner=owner,
        name=(name or imported.name)[:200],
        description=imported.description,
        category=imported.category[:50],
        tags=imported.tags,
        is_active=is_active,
        definition=imported.definition,
        note=f"Imported ({imported.source_format})",
        invalid="The imported workflow is invalid",
    )
    return workflow, imported.warnings + workflow.validation_warnings
