"""Outgoing webhooks: subscriptions, the signing secret of per-run webhook URLs, and delivery attempts.

A subscription's ``secret`` exists only as ``encrypted_secret`` (a Fernet token
of :mod:`integrations.crypto`): deliveries must be signed with it, so it cannot
be hashed; it is shown once, when it is made. Each attempt to deliver an event
is one :class:`WebhookDelivery` row; the attempts of one event share a
``delivery_id`` (the ``X-Flowbuilder-Delivery`` header, for receivers to
de-duplicate). A ``pending`` row is the outbox of its attempt: it is written
before its task is queued, and the sweep queues it again if the message is lost.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Event(models.TextChoices):
    """What a subscription can listen to (SPEC §3), and the test event."""

    EXECUTION_STARTED = "workflow.execution.started"
    EXECUTION_COMPLETED = "workflow.execution.completed"
    EXECUTION_FAILED = "workflow.execution.failed"
    FILE_PROCESSED = "file.processing.completed"
    QUOTA_EXCEEDED = "user.quota.exceeded"
    PING = "ping"


SUBSCRIBABLE_EVENTS = tuple(e.value for e in Event if e != Event.PING)


class WebhookSubscription(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="webhooks")
    url = models.URLField(max_length=2000)
    description = models.CharField(max_length=200, blank=True)
    events = models.JSONField(default=list, help_text="Event names (see Event); at least one.")
    workflow = models.ForeignKey(
        "workflows.Workflow",
        on_delete=models.CASCADE,  # a filter on a workflow that is gone would otherwise widen to every workflow
        null=True,
        blank=True,
        related_name="+",
        help_text="Only events of this workflow's runs and files (quota events are not about a workflow).",
    )
    encrypted_secret = models.TextField(help_text="The signing secret as a Fernet token; never shown again.")
    secret_hint = models.CharField(max_length=16, blank=True)
    is_active = models.BooleanField(default=True)
    failure_count = models.PositiveIntegerField(default=0, help_text="Failed attempts in a row (0 after a success).")
    disabled_at = models.DateTimeField(null=True, blank=True, help_text="When repeated failures disabled it.")
    disabled_reason = models.CharField(max_length=500, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_failure_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "webhook"
        indexes = [models.Index(fields=["owner", "is_active"], name="webhook_owner_active")]

    def __str__(self) -> str:
        return f"{self.url} ({', '.join(self.events)})"

    def wants(self, event: str, workflow_id: object = None) -> bool:
        """Whether an event (of ``workflow_id``'s run or file, if any) goes to this subscription."""
        if event not in self.events:
            return False
        return self.workflow_id is None or workflow_id is None or str(self.workflow_id) == str(workflow_id)


class WebhookSigningSecret(models.Model):
    """A user's secret for the ``webhook_url`` of ``POST /workflows/{id}/execute`` (one per user)."""

    owner = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="webhook_signing_secret"
    )
    encrypted_secret = models.TextField()
    secret_hint = models.CharField(max_length=16, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = "webhook signing secret"

    def __str__(self) -> str:
        return f"Signing secret of {self.owner_id} ({self.secret_hint})"


class WebhookDelivery(models.Model):
    """One attempt to deliver one event to one URL."""

    class Status(models.TextChoices):
        PENDING = "pending"  # due at next_attempt_at, not made yet
        SUCCEEDED = "succeeded"  # answered 2xx
        RETRYING = "retrying"  # failed; the next attempt is a new pending row (at next_attempt_at)
        GIVEN_UP = "given_up"  # the last attempt failed
        FAILED = "failed"  # failed and not retried: refused address, subscription disabled, test event

    FINISHED = (Status.SUCCEEDED, Status.RETRYING, Status.GIVEN_UP, Status.FAILED)

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    delivery_id = models.UUIDField(default=uuid.uuid4, db_index=True, help_text="Shared by the attempts of an event.")
    # Both are the first column of an index below.
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+", db_index=False)
    subscription = models.ForeignKey(
        WebhookSubscription,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        db_index=False,
        related_name="deliveries",
        help_text="Empty for a run's own webhook_url.",
    )
    execution = models.ForeignKey(
        "executions.Execution", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    url = models.CharField(max_length=2000, help_text="Where this attempt was (or will be) sent.")
    event = models.CharField(max_length=64, choices=Event.choices)
    payload = models.JSONField(help_text="The body sent: {event, data, timestamp, delivery_id}.")
    attempt = models.PositiveSmallIntegerField(default=1)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    response_status = models.PositiveSmallIntegerField(null=True, blank=True)
    response_time_ms = models.PositiveIntegerField(null=True, blank=True)
    response_body = models.TextField(blank=True, help_text="The start of the answer (truncated).")
    error = models.TextField(blank=True)
    next_attempt_at = models.DateTimeField(
        null=True, blank=True, help_text="Pending: when it is due. Retrying: when the next attempt is."
    )
    queued_at = models.DateTimeField(null=True, blank=True, help_text="When its task should have started.")
    locked_until = models.DateTimeField(null=True, blank=True, help_text="An attempt in flight holds it until then.")
    dedupe_key = models.CharField(
        max_length=200, blank=True, help_text="First attempts only: one delivery per target and event occurrence."
    )
    attempted_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name_plural = "webhook deliveries"
        indexes = [
            models.Index(fields=["subscription", "-created_at"], name="whdelivery_sub_recent"),
            models.Index(fields=["owner", "-created_at"], name="whdelivery_owner_recent"),
            models.Index(fields=["next_attempt_at"], condition=Q(status="pending"), name="whdelivery_pending_due"),
            models.Index(fields=["created_at"], name="whdelivery_created"),
        ]
        constraints = [
            models.UniqueConstraint(fields=["delivery_id", "attempt"], name="whdelivery_unique_attempt"),
            models.UniqueConstraint(
                fields=["owner", "dedupe_key"], condition=~Q(dedupe_key=""), name="whdelivery_unique_occurrence"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} #{self.attempt} to {self.url} ({self.status})"
