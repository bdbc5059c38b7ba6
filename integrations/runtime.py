"""The engine's credential store (installed in ``IntegrationsConfig.ready``).

A node gets a credential only if the run's owner (the workflow's owner) owns
it and it is of a type the node takes: checked here, on every run, whatever
the definition said when it was saved.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from audit.services import audit_credential_use
from executions.engine.credentials import ResolvedCredential
from executions.engine.types import NodeError
from flowbuilder.ids import parse_uuid
from integrations import credential_types, crypto, services
from integrations.models import Credential
from integrations.selectors import expected_types_message


class DatabaseCredentialStore:
    def resolve(
        self,
        *,
        owner_id: Any,
        reference: str,
        expected_types: tuple[str, ...],
        execution_id: Any = None,
        node_id: str = "",
    ) -> ResolvedCredential:
        key = parse_uuid(reference)
        credential = Credential.objects.filter(pk=key, owner_id=owner_id).first() if key else None
        if credential is None:
            raise NodeError("Credential not found", retryable=False)
        if expected_types and credential.type not in expected_types:
            raise NodeError(expected_types_message(expected_types, credential.type), retryable=False)
        try:
            data = crypto.decrypt(credential.encrypted_data)
        except crypto.DecryptionFailed as exc:
            raise NodeError(f"Credential '{credential.name}': {exc}", retryable=False) from None
        services.credential_touch(credential_id=credential.pk)
        audit_credential_use(credential=credential, execution=execution_id, node_id=node_id, purpose="node")
        return ResolvedCredential(id=str(credential.pk), type=credential.type, data=data)

    def refresh(
        self,
        *,
        owner_id: Any,
        reference: str,
        seen: Mapping[str, Any],
        refresher: Callable[[dict[str, Any]], Mapping[str, Any]],
    ) -> dict[str, Any]:
        try:
            return services.credential_refresh(
                credential_id=parse_uuid(reference), owner_id=owner_id, seen=seen, refresher=refresher
            )
        except services.CredentialGone:
            raise NodeError("Credential not found", retryable=False) from None

    def secrets_of(self, credential_type: str, data: Mapping[str, Any]) -> frozenset[str]:
        return credential_types.secrets_of(credential_type, data)
