"""Executions, their steps and logs: the durable state of every run.

The ``Execution`` row is the outbox: it (and its first steps) are written
before anything is queued, and tasks are queued only after that commit. A
``StepRun`` is one node of one execution; its status, lease and due times are
what the recovery sweep reads.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class Execution(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued"
        RUNNING = "running"
        WAITING = "waiting"
        COMPLETED = "completed"
        FAILED = "failed"
        CANCELLED = "cancelled"
        TIMED_OUT = "timed_out"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.CANCELLED, Status.TIMED_OUT)
    ACTIVE = (Status.QUEUED, Status.RUNNING, Status.WAITING)

    class Mode(models.TextChoices):
        LIVE = "live"
        DRY_RUN = "dry_run"

    class Trigger(models.TextChoices):
        MANUAL = "manual"
        WEBHOOK = "webhook"
        SCHEDULE = "schedule"
        SUB_WORKFLOW = "sub_workflow"
        FOR_EACH = "for_each"
        RETRY = "retry"
        RERUN = "rerun"
        FILE = "file"
        TEST = "test"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    workflow = models.ForeignKey("workflows.Workflow", on_delete=models.CASCADE, related_name="executions")
    workflow_version = models.ForeignKey(
        "workflows.WorkflowVersion", on_delete=models.CASCADE, related_name="executions"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="executions",
        help_text="Whose credentials and limits the run uses: the workflow's owner.",
    )
    triggered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    mode = models.CharField(max_length=16, choices=Mode.choices, default=Mode.LIVE)
    trigger = models.CharField(max_length=16, choices=Trigger.choices, default=Trigger.MANUAL)
    input_data = models.JSONField(default=dict, blank=True)
    output_data = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    progress = models.PositiveSmallIntegerField(default=0)
    current_step = models.CharField(max_length=64, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    parent = models.ForeignKey("self", on_delete=models.CASCADE, null=True, blank=True, related_name="children")
    parent_step = models.ForeignKey(
        "executions.StepRun", on_delete=models.SET_NULL, null=True, blank=True, related_name="child_executions"
    )
    child_index = models.PositiveIntegerField(null=True, blank=True)
    retry_of = models.ForeignKey("self", on_delete=models.SET_NULL, null=True, blank=True, related_name="retries")
    scheduled_for = models.DateTimeField(null=True, blank=True)
    webhook_url = models.URLField(max_length=2000, blank=True)
    deadline = models.DateTimeField(null=True, blank=True)
    dispatched_at = models.DateTimeField(
        null=True, blank=True, help_text="When its start was queued; empty while held by the concurrency limit."
    )
    event_seq = models.PositiveBigIntegerField(default=0)
    start_deaths = models.PositiveSmallIntegerField(
        default=0, help_text="Starts of this run whose worker died before finishing them (a poison pill's count)."
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["workflow", "-created_at"], name="exec_workflow_recent"),
            models.Index(fields=["owner", "-created_at"], name="exec_owner_recent"),
            models.Index(fields=["status", "created_at"], name="exec_status_created"),
            models.Index(fields=["status", "deadline"], name="exec_status_deadline"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["workflow", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="exec_unique_idempotency_key",
            ),
            models.UniqueConstraint(
                fields=["workflow", "scheduled_for"],
                condition=Q(scheduled_for__isnull=False, trigger="schedule"),
                name="exec_unique_scheduled_time",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.workflow_id} run {self.id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def duration(self) -> float | None:
        if self.started_at and self.completed_at:
            return (self.completed_at - self.started_at).total_seconds()
        return None


class StepRun(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending"
        RUNNING = "running"
        RETRYING = "retrying"
        WAITING = "waiting"
        COMPLETED = "completed"
        FAILED = "failed"
        SKIPPED = "skipped"
        CANCELLED = "cancelled"

    FINISHED = (Status.COMPLETED, Status.FAILED, Status.SKIPPED, Status.CANCELLED)

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="steps")
    node_id = models.CharField(max_length=64)
    node_type = models.CharField(max_length=64)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    attempt = models.PositiveSmallIntegerField(default=0)
    output = models.JSONField(null=True, blank=True)
    error = models.JSONField(null=True, blank=True)
    ports = models.JSONField(null=True, blank=True, help_text="Output ports the step took.")
    state = models.JSONField(default=dict, blank=True, help_text="Node-private state of a waiting step.")
    created_at = models.DateTimeField(auto_now_add=True)
    queued_at = models.DateTimeField(null=True, blank=True)
    started_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    worker = models.CharField(max_length=255, blank=True)
    next_attempt_at = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    worker_deaths = models.PositiveSmallIntegerField(
        default=0, help_text="Tries of this step whose worker died before finishing them (a poison pill's count)."
    )

    class Meta:
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["execution", "node_id"], name="step_unique_node")]
        indexes = [
            models.Index(fields=["status", "lease_expires_at"], name="step_status_lease"),
            models.Index(fields=["status", "next_attempt_at"], name="step_status_retry"),
            models.Index(fields=["status", "wake_at"], name="step_status_wake"),
            models.Index(fields=["status", "queued_at"], name="step_status_queued"),
        ]

    def __str__(self) -> str:
        return f"{self.node_id} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED


class ExecutionLog(models.Model):
    class Level(models.TextChoices):
        DEBUG = "debug"
        INFO = "info"
        WARNING = "warning"
        ERROR = "error"

    execution = models.ForeignKey(Execution, on_delete=models.CASCADE, related_name="logs")
    node_id = models.CharField(max_length=64, blank=True)
    level = models.CharField(max_length=8, choices=Level.choices, default=Level.INFO)
    message = models.TextField()
    data = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]
        indexes = [models.Index(fields=["execution", "id"], name="log_execution_order")]

    def __str__(self) -> str:
        return f"[{self.level}] {self.message[:60]}"
