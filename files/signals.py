"""Signals other apps listen to (the outgoing webhooks of SPEC §3: ``file.processing.completed``,
``user.quota.exceeded``); core logic never hangs off them."""

from __future__ import annotations

from django.dispatch import Signal

# A file's processing run ended (in the transaction that records it); kwargs: file (StoredFile, status processed or failed).
file_processed = Signal()

# An upload was refused because it would exceed the user's quota; kwargs: user, used_bytes,
# quota_bytes, requested_bytes.
quota_exceeded = Signal()
