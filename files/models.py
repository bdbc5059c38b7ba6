"""Uploaded files: metadata in the database, bytes in the ``files`` storage (files/storage.py) under an id-based key."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models

from executions.engine.nodes.trigger_manual import FILE_CATEGORIES


class StoredFile(models.Model):
    # The categories the manual trigger's file input names.
    Category = models.TextChoices("Category", [(c.upper(), c) for c in FILE_CATEGORIES])

    class Status(models.TextChoices):
        UPLOADED = "uploaded"
        PROCESSING = "processing"
        PROCESSED = "processed"
        FAILED = "failed"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="files")
    name = models.CharField(max_length=255, help_text="The client's file name, made safe.")
    description = models.TextField(blank=True)
    key = models.CharField(
        max_length=255, help_text="Where the bytes are in the 'files' storage: <owner id>/<file id>, never the name."
    )
    content_type = models.CharField(max_length=255, help_text="Sniffed from the bytes.")
    declared_content_type = models.CharField(max_length=255, blank=True, help_text="What the client said it is.")
    category = models.CharField(max_length=16, choices=Category.choices)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.UPLOADED)
    workflow = models.ForeignKey(
        "workflows.Workflow",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
        help_text="The workflow that processes it.",
    )
    execution = models.ForeignKey(
        "executions.Execution",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="files",
        help_text="The latest processing run.",
    )
    processing_result = models.JSONField(null=True, blank=True)
    processed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["owner", "-created_at"], name="file_owner_recent"),
            models.Index(fields=["execution"], name="file_execution"),
        ]

    def __str__(self) -> str:
        return self.name
