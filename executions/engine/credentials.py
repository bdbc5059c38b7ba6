"""Credentials as the engine sees them: resolved through a store another app installs, and redacted.

The engine does not know how credentials are stored. The ``integrations`` app
installs a :class:`CredentialStore` when Django starts (its ``AppConfig.ready``);
the runner asks it, per step, for the decrypted data of the credential the
node's config names (``config["credential"]``), for the run's owner. What a
node may see is exactly that copy, as ``ctx.credential``.

Every secret string of the credentials a step used is replaced by
:data:`REDACTED` in what the step leaves behind (output, error, log lines)
before anything is stored: :func:`redact`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from executions.engine.types import NodeContext, NodeError

REDACTED = "[redacted]"


@dataclass(frozen=True)
class ResolvedCredential:
    """A credential's decrypted data, handed to one step of one run."""

    id: str
    type: str
    data: dict[str, Any]


class CredentialStore(Protocol):
    def resolve(
        self,
        *,
        owner_id: Any,
        reference: str,
        expected_types: tuple[str, ...],
        execution_id: Any = None,
        node_id: str = "",
    ) -> ResolvedCredential:
        """The credential ``reference`` of ``owner_id``, decrypted for step ``node_id`` of run ``execution_id``.

        Raises a non-retryable NodeError ("Credential not found", or the wrong
        type) when the owner has no such credential. The store may record the
        use (the integrations app writes a ``credential.used`` audit event).
        """
        ...

    def refresh(
        self,
        *,
        owner_id: Any,
        reference: str,
        seen: Mapping[str, Any],
        refresher: Callable[[dict[str, Any]], Mapping[str, Any]],
    ) -> dict[str, Any]:
        """The credential's data after a refresh (a new OAuth2 token), stored.

        Under the credential's lock: if its stored data is no longer ``seen``
        (another step refreshed it meanwhile), answers that data without
        refreshing again; else merges ``refresher(data)`` into it and stores it.
        """
        ...

    def secrets_of(self, credential_type: str, data: Mapping[str, Any]) -> frozenset[str]:
        """Every string whose appearance in a step's results would disclose the secret."""
        ...


_store: CredentialStore | None = None


def install(store: CredentialStore | None) -> None:
    global _store
    _store = store


def store() -> CredentialStore:
    if _store is None:
        raise NodeError("Credentials are not available: no credential store is installed", retryable=False)
    return _store


def attach(ctx: NodeContext) -> ResolvedCredential | None:
    """Resolve the credential the node's rendered config names (if any) into ``ctx.credential``.

    The config was rendered, so a reference built by an expression is checked
    here like a literal one: only a credential of the run's owner resolves.
    """
    reference = ctx.config.get("credential")
    if reference in (None, ""):
        return None
    if not isinstance(reference, str):
        raise NodeError("config.credential: expected a credential id", retryable=False)
    resolved = store().resolve(
        owner_id=ctx.owner_id,
        reference=reference,
        expected_types=ctx.node_type.credential_types,
        execution_id=ctx.execution_id,
        node_id=ctx.node_id,
    )
    ctx.credential = dict(resolved.data)
    ctx.credential_type = resolved.type
    return resolved


def refresh(ctx: NodeContext, refresher: Callable[[dict[str, Any]], Mapping[str, Any]]) -> None:
    """Refresh the node's credential (see :meth:`CredentialStore.refresh`) and use the new data from now on."""
    if ctx.credential is None:
        raise NodeError("The node has no credential to refresh", retryable=False)
    fresh = store().refresh(
        owner_id=ctx.owner_id, reference=str(ctx.config["credential"]), seen=dict(ctx.credential), refresher=refresher
    )
    ctx.credential.clear()
    ctx.credential.update(fresh)


def secrets_used(resolved: ResolvedCredential | None, ctx: NodeContext | None) -> frozenset[str]:
    """The secrets of the step's credential: as resolved, and as the node left it (refreshed tokens)."""
    if resolved is None or _store is None:
        return frozenset()
    found = _store.secrets_of(resolved.type, resolved.data)
    if ctx is not None and ctx.credential:
        found |= _store.secrets_of(resolved.type, ctx.credential)
    return found


def redact(value: Any, secrets: Iterable[str]) -> Any:
    """``value`` (any JSON-like data) with every occurrence of each secret replaced by :data:`REDACTED`.

    Longer secrets go first, so a secret that contains another is replaced whole.
    """
    ordered = sorted({s for s in secrets if s}, key=len, reverse=True)
    if not ordered:
        return value
    return _redact(value, ordered)


def _redact(value: Any, secrets: list[str]) -> Any:
    if isinstance(value, str):
        for secret in secrets:
            if secret in value:
                value = value.replace(secret, REDACTED)
        return value
    if isinstance(value, Mapping):
        return {_redact(key, secrets): _redact(item, secrets) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_redact(item, secrets) for item in value]
    return value
