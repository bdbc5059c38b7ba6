"""Reads: a user's credentials and integrations, and the credential check of workflow definitions."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from accounts.models import User
from executions.engine.validation import CredentialChecker
from flowbuilder.api.errors import NotFound
from flowbuilder.ids import parse_uuid
from integrations.models import Credential, Integration


def credential_list(user: User) -> QuerySet[Credential]:
    return Credential.objects.filter(owner=user).defer("encrypted_data").order_by("name")


def credential_get(*, user: User, credential_id: Any) -> Credential:
    """The user's credential; NotFound for anyone else's (never 403: ids are not confirmed)."""
    credential = (
        Credential.objects.filter(owner=user, pk=parse_uuid(credential_id)).first()
        if parse_uuid(credential_id)
        else None
    )
    if credential is None:
        raise NotFound("Credential not found")
    return credential


def integration_list(user: User) -> QuerySet[Integration]:
    return Integration.objects.filter(owner=user).select_related("credential").order_by("name")


def integration_get(*, user: User, integration_id: Any) -> Integration:
    key = parse_uuid(integration_id)
    integration = integration_list(user).filter(pk=key).first() if key else None
    if integration is None:
        raise NotFound("Integration not found")
    return integration


def expected_types_message(expected: tuple[str, ...], actual: str) -> str:
    names = list(expected)
    wanted = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]
    return f"Expected a credential of type {wanted}, got {actual}"


def credential_checker(owner: User) -> CredentialChecker:
    """What ``validate_definition`` asks of each credential a node names: does ``owner`` own one of that type?

    Answers "Credential not found" for ids the owner does not own (whoever
    else does), and the expected types for the wrong type.
    """
    seen: dict[str, str | None] = {}

    def check(reference: str, expected: tuple[str, ...]) -> str | None:
        if reference not in seen:
            key = parse_uuid(reference)
            row = Credential.objects.filter(owner=owner, pk=key).values_list("type", flat=True) if key else None
            seen[reference] = row.first() if row is not None else None
        actual = seen[reference]
        if actual is None:
            return "Credential not found"
        if expected and actual not in expected:
            return expected_types_message(expected, actual)
        return None

    return check
