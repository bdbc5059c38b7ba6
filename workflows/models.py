"""Workflows, their immutable versions, tags and shares."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.db import models


class Tag(models.Model):
    name = models.CharField(max_length=50, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Workflow(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflows")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=50, blank=True, db_index=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="workflows")
    is_active = models.BooleanField(default=True)
    definition = models.JSONField(help_text="The current definition, canonical form.")
    version = models.PositiveIntegerField(default=1, help_text="Number of the current definition version.")
    webhook_token = models.CharField(
        max_length=64,
        unique=True,
        null=True,
        blank=True,
        editable=False,
        help_text="The secret of the URL /hooks/<token> while the trigger is a webhook; empty otherwise.",
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    # Not stored: what validating the definition warned about, set by workflow_create for its caller.
    validation_warnings: list[dict[str, Any]]

    class Meta:
        ordering = ["-updated_at"]
        indexes = [models.Index(fields=["owner", "-updated_at"], name="workflow_owner_recent")]

    def __str__(self) -> str:
        return self.name


class WorkflowVersion(models.Model):
    """An immutable snapshot of a definition; executions pin the one they ran."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    definition = models.JSONField()
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["workflow", "number"], name="workflow_version_unique_number")]

    def __str__(self) -> str:
        return f"{self.workflow_id} v{self.number}"


class WorkflowShare(models.Model):
    """Another user's access to a workflow, at a role."""

    class Role(models.TextChoices):
        VIEWER = "viewer"
        OPERATOR = "operator"
        EDITOR = "editor"

    workflow = models.ForeignKey(Workflow, on_delete=models.CASCADE, related_name="shares")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="workflow_shares")
    role = models.CharField(max_length=16, choices=Role.choices, default=Role.VIEWER)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["workflow", "user"], name="workflow_share_unique_user")]

    def __str__(self) -> str:
        return f"{self.workflow_id} → {self.user_id} ({self.role})"
