"""Revocation reaches open sockets: a user's live connections check their access again when it shrinks.

Every live consumer also joins its user's :func:`access_group`. On
``accounts.signals.access_changed`` (a share removed, a key revoked, a password changed) a
message goes to that group after the commit, and each consumer authenticates and
authorises again with the credentials it connected with: revoked credentials close it
4401, lost access 4403. Checking on each relayed message would cost a query per frame.
"""

from __future__ import annotations

from typing import Any

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from django.dispatch import receiver

from accounts.signals import access_changed

MESSAGE_TYPE = "access.revoked"


def access_group(user_id: Any) -> str:
    return f"access.{user_id}"


def announce(user_id: Any) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(access_group(user_id), {"type": MESSAGE_TYPE})


@receiver(access_changed, dispatch_uid="executions.live.access_changed")
def _access_changed(sender: Any, user_id: Any, **kwargs: Any) -> None:
    transaction.on_commit(lambda: announce(user_id))
