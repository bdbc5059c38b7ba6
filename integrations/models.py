"""Credentials (encrypted), connected services, and AI usage.

A credential's ``data`` exists only as ``encrypted_data`` (a Fernet token);
nothing outside :mod:`integrations.services` and :mod:`integrations.runtime`
decrypts it, and nothing ever returns it through the API.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Credential(models.Model):
    class Type(models.TextChoices):  # the types of integrations/credential_types.py
        HTTP_BASIC = "http_basic", "HTTP Basic auth"
        HTTP_BEARER = "http_bearer", "Bearer token"
        API_KEY = "api_key", "API key"
        OAUTH2_TOKEN = "oauth2_token", "OAuth2 token"
        SMTP = "smtp", "SMTP server"
        OPENAI_COMPATIBLE = "openai_compatible", "OpenAI-compatible API"
        SLACK_WEBHOOK = "slack_webhook", "Slack incoming webhook"
        HMAC_SECRET = "hmac_secret", "HMAC secret"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="credentials")
    name = models.CharField(max_length=200)
    type = models.CharField(max_length=32, choices=Type.choices)
    encrypted_data = models.TextField(help_text="The data as a Fernet token; never shown.")
    hint = models.CharField(max_length=32, blank=True, help_text="The last characters of the main secret, masked.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="credential_unique_name_per_owner")]
        indexes = [models.Index(fields=["owner", "type"], name="credential_owner_type")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class Integration(models.Model):
    """A connected service: its type (``slack``, ``github``…), non-secret settings and a credential."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="integrations")
    type = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    settings = models.JSONField(default=dict, blank=True)
    credential = models.ForeignKey(
        Credential, on_delete=models.SET_NULL, null=True, blank=True, related_name="integrations"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="integration_unique_name_per_owner")]

    def __str__(self) -> str:
        return f"{self.name} ({self.type})"


class AIUsage(models.Model):
    """One call to an AI provider: whose, which provider and model, tokens and cost (USD)."""

    class Kind(models.TextChoices):
        CHAT = "chat", "Chat"
        IMAGE_GENERATE = "image_generate", "Image generation"
        IMAGE_ANALYZE = "image_analyze", "Image analysis"

    class Source(models.TextChoices):
        GATEWAY = "gateway", "AI gateway"
        NODE = "node", "LLM node"

    id = models.BigAutoField(primary_key=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="ai_usage")
    provider = models.CharField(max_length=255, help_text="The provider's host, e.g. api.openai.com")
    base_url = models.CharField(max_length=2048)
    model = models.CharField(max_length=200)
    kind = models.CharField(max_length=32, choices=Kind.choices, default=Kind.CHAT)
    source = models.CharField(max_length=16, choices=Source.choices, default=Source.GATEWAY)
    credential = models.ForeignKey(Credential, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    execution_id = models.UUIDField(null=True, blank=True)
    prompt_tokens = models.PositiveIntegerField(default=0)
    completion_tokens = models.PositiveIntegerField(default=0)
    total_tokens = models.PositiveIntegerField(default=0)
    images = models.PositiveIntegerField(default=0)
    cost = models.DecimalField(max_digits=20, decimal_places=10, default=0, help_text="USD")
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "AI usage"
        verbose_name_plural = "AI usage"
        indexes = [
            models.Index(fields=["user", "-created_at"], name="aiusage_user_recent"),
            models.Index(fields=["user", "provider", "-created_at"], name="aiusage_user_provider"),
        ]

    def __str__(self) -> str:
        return f"{self.model} @ {self.provider}: {self.total_tokens} tokens"
