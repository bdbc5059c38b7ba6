"""The audit log: one immutable row per security-relevant event or change."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone


class AuditEvent(models.Model):
    """Who did what to which object, from where, and what changed (secrets redacted).

    Rows are written in the transaction of the change they describe (so a
    rolled-back change leaves no row and a committed one always has its row)
    and are never edited; they go only by the retention purge.
    """

    class Source(models.TextChoices):
        API = "api"
        ADMIN = "admin"
        WEB = "web"
        CLI = "cli"
        SYSTEM = "system"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_email = models.CharField(max_length=254, blank=True, help_text="Kept when the actor is deleted.")
    action = models.CharField(max_length=100, help_text="e.g. workflow.updated, auth.login_failed")
    object_type = models.CharField(max_length=100, blank=True, help_text="app_label.model, e.g. workflows.workflow")
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField(max_length=200, blank=True)
    changes = models.JSONField(default=dict, blank=True, help_text="Field diff or event details; secrets redacted.")
    ip = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=512, blank=True)
    request_id = models.CharField(max_length=128, blank=True)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.SYSTEM)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["object_type", "object_id", "-created_at"], name="audit_object_recent"),
            models.Index(fields=["actor", "-created_at"], name="audit_actor_recent"),
            models.Index(fields=["action", "-created_at"], name="audit_action_recent"),
        ]

    def __str__(self) -> str:
        who = self.actor_email or "system"
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {who} {self.action} {self.object_type}:{self.object_id}"
