"""Workflow templates: a definition with ``{{ param }}`` placeholders and its typed parameters."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Template(models.Model):
    """A reusable workflow. Built-in templates (the gallery) belong to nobody and are visible to
    everyone; the others belong to their owner and are visible to them only.

    ``definition`` is canonical (normalised when saved) and may hold ``{{ param }}`` placeholders;
    ``companions`` are further definitions ``[{key, name, description, definition}]`` created as
    workflows alongside the main one (the child of a ``for_each``), referred to in the definitions
    as ``{{ companions.<key> }}``.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    key = models.SlugField(
        max_length=100, unique=True, null=True, blank=True, help_text="Stable identifier of a built-in template."
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, null=True, blank=True, related_name="templates"
    )
    is_builtin = models.BooleanField(default=False)
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    category = models.CharField(max_length=50, blank=True, db_index=True)
    definition = models.JSONField()
    companions = models.JSONField(default=list, blank=True)
    is_active = models.BooleanField(default=True)
    usage_count = models.PositiveIntegerField(default=0, help_text="How many workflows were made from it.")
    source_workflow = models.ForeignKey(
        "workflows.Workflow", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["category", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(is_builtin=True, owner__isnull=True) | Q(is_builtin=False, owner__isnull=False),
                name="template_builtin_xor_owner",
            )
        ]
        indexes = [models.Index(fields=["owner", "category"], name="template_owner_category")]

    def __str__(self) -> str:
        return self.name


class TemplateParameter(models.Model):
    class Type(models.TextChoices):
        STRING = "string"
        NUMBER = "number"
        BOOLEAN = "boolean"
        EMAIL = "email"
        URL = "url"
        ENUM = "enum"
        JSON = "json"

    template = models.ForeignKey(Template, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=64)
    description = models.TextField(blank=True)
    parameter_type = models.CharField(max_length=16, choices=Type.choices, default=Type.STRING)
    is_required = models.BooleanField(default=False, help_text="A value must be given unless there is a default.")
    default_value = models.JSONField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text="The allowed values of an enum.")
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]
        constraints = [models.UniqueConstraint(fields=["template", "name"], name="template_parameter_unique_name")]

    def __str__(self) -> str:
        return f"{self.name} ({self.parameter_type})"
