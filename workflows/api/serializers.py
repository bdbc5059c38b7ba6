"""Workflow API serializers: input validation of shapes, output representation."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from workflows.api.schema import DefinitionField, DefinitionInputField
from workflows.models import Workflow, WorkflowShare, WorkflowVersion


class WorkflowInputSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, max_length=10_000)
    category = serializers.CharField(required=False, allow_blank=True, max_length=50)
    tags = serializers.ListField(child=serializers.CharField(max_length=50), max_length=20, required=False)
    is_active = serializers.BooleanField(required=False)
    definition = DefinitionInputField(help_text="The definition (canonical form or a seed format).")
    workflow_data = DefinitionInputField(
        required=False, write_only=True, help_text="The seed documents' name for `definition` (an alias)."
    )
    version = serializers.IntegerField(
        required=False, min_value=1, help_text="The version your change is based on; a stale one gets 409."
    )

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, Mapping) and "workflow_data" in data and "definition" not in data:
            data = {**data, "definition": data["workflow_data"]}
        values = super().to_internal_value(data)
        values.pop("workflow_data", None)
        return values


class DefinitionInputSerializer(serializers.Serializer):
    definition = DefinitionInputField()


class ProblemSerializer(serializers.Serializer):
    field = serializers.CharField(allow_null=True)
    message = serializers.CharField()


class ValidationResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    errors = ProblemSerializer(many=True)
    warnings = ProblemSerializer(many=True)
    definition = serializers.JSONField(help_text="The definition in canonical form.")


class TriggerSerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["manual", "webhook", "schedule"])
    url = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Webhooks: the absolute URL that starts a run; shown to whoever may run the workflow.",
    )
    method = serializers.CharField(required=False, help_text="Webhooks: the HTTP method the URL accepts.")
    respond = serializers.ChoiceField(choices=["immediately", "when_done"], required=False)
    signed = serializers.BooleanField(required=False, help_text="Webhooks: requests must carry an HMAC signature.")
    cron = serializers.CharField(required=False)
    timezone = serializers.CharField(required=False)
    next_run_at = serializers.DateTimeField(
        required=False,
        allow_null=True,
        help_text="Schedules: the next tick, in the schedule's time zone; null when paused.",
    )


class ExecutionStatsSerializer(serializers.Serializer):
    total_executions = serializers.IntegerField()
    successful_executions = serializers.IntegerField(help_text="Runs that ended `completed`.")
    failed_executions = serializers.IntegerField(help_text="Runs that ended `failed` or `timed_out`.")
    average_duration = serializers.FloatField(allow_null=True, help_text="Seconds.")


class WorkflowListSerializer(serializers.ModelSerializer):
    created_by = serializers.UUIDField(source="owner_id", read_only=True)
    owner_email = serializers.EmailField(source="owner.email", read_only=True)
    tags = serializers.SerializerMethodField()
    execution_count = serializers.IntegerField(read_only=True)
    last_execution_at = serializers.DateTimeField(read_only=True, allow_null=True)
    shared_role = serializers.CharField(source="share_role", read_only=True, allow_null=True)

    class Meta:
        model = Workflow
        fields = [
            "id",
            "name",
            "description",
            "category",
            "tags",
            "is_active",
            "version",
            "created_by",
            "owner_email",
            "shared_role",
            "execution_count",
            "last_execution_at",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_tags(self, workflow: Workflow) -> list[str]:
        return [tag.name for tag in workflow.tags.all()]


class WorkflowDetailSerializer(WorkflowListSerializer):
    definition = DefinitionField(read_only=True)
    trigger = serializers.SerializerMethodField()
    execution_stats = serializers.SerializerMethodField()
    permissions = serializers.SerializerMethodField()

    class Meta(WorkflowListSerializer.Meta):
        fields = [*WorkflowListSerializer.Meta.fields, "definition", "trigger", "execution_stats", "permissions"]
        read_only_fields = fields

    # Read by workflows.access.workflow_detail, which loads what a detail shows.

    @extend_schema_field(TriggerSerializer)
    def get_trigger(self, workflow: Workflow) -> dict[str, Any]:
        return workflow.trigger_info

    @extend_schema_field(ExecutionStatsSerializer)
    def get_execution_stats(self, workflow: Workflow) -> dict[str, Any]:
        return workflow.execution_stats

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_permissions(self, workflow: Workflow) -> list[str]:
        return sorted(workflow.permissions)


class WorkflowCreatedSerializer(WorkflowDetailSerializer):
    warnings = ProblemSerializer(many=True, read_only=True, source="validation_warnings")

    class Meta(WorkflowDetailSerializer.Meta):
        fields = [*WorkflowDetailSerializer.Meta.fields, "warnings"]
        read_only_fields = fields


class WorkflowVersionSerializer(serializers.ModelSerializer):
    author = serializers.EmailField(source="author.email", read_only=True, allow_null=True)

    class Meta:
        model = WorkflowVersion
        fields = ["number", "note", "author", "created_at"]
        read_only_fields = fields


class WorkflowVersionDetailSerializer(WorkflowVersionSerializer):
    definition = DefinitionField(read_only=True)

    class Meta(WorkflowVersionSerializer.Meta):
        fields = [*WorkflowVersionSerializer.Meta.fields, "definition"]
        read_only_fields = fields


class ShareInputSerializer(serializers.Serializer):
    email = serializers.EmailField()
    role = serializers.ChoiceField(choices=WorkflowShare.Role.choices, default=WorkflowShare.Role.VIEWER)


class ShareSerializer(serializers.ModelSerializer):
    user_id = serializers.UUIDField(read_only=True)
    email = serializers.EmailField(source="user.email", read_only=True)

    class Meta:
        model = WorkflowShare
        fields = ["user_id", "email", "role", "created_at"]
        read_only_fields = fields


class ImportInputSerializer(serializers.Serializer):
    data = serializers.JSONField(
        help_text="A Flowbuilder export, a workflow object of the seed format, or a definition."
    )
    name = serializers.CharField(required=False, max_length=200, help_text="Overrides the imported name.")
    is_active = serializers.BooleanField(required=False, default=True)

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        # An export (or workflow object, or definition) posted as it comes, not wrapped in {"data": …}.
        if isinstance(data, Mapping) and "data" not in data:
            data = {"data": dict(data)}
        return super().to_internal_value(data)


class ExportSerializer(serializers.Serializer):
    format = serializers.CharField()
    format_version = serializers.IntegerField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    tags = serializers.ListField(child=serializers.CharField())
    definition = DefinitionField()
    source = serializers.DictField()
    exported_at = serializers.DateTimeField()


class NodeTypeSerializer(serializers.Serializer):
    type = serializers.CharField()
    label = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    inputs = serializers.ListField(child=serializers.CharField())
    outputs = serializers.ListField(child=serializers.CharField())
    dynamic_outputs = serializers.BooleanField()
    config_schema = serializers.DictField()
    credential_types = serializers.ListField(child=serializers.CharField())
    credential_required = serializers.BooleanField()
    is_trigger = serializers.BooleanField()
    side_effects = serializers.BooleanField()
    aliases = serializers.ListField(child=serializers.CharField())
