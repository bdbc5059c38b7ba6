"""Signals other apps listen to; core logic never hangs off them."""

from __future__ import annotations

from django.dispatch import Signal

# What a user may reach shrank (a share removed or narrowed, an API key revoked, every token revoked
# by a password change): open live connections of theirs must check again. kwargs: user_id.
# Sent inside the transaction that made the change; listeners act on commit.
access_changed = Signal()
