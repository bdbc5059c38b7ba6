"""Execution API serializers: input shapes, and the list / detail / accepted representations."""

from __future__ import annotations

from typing import Any

from django.core.validators import URLValidator
from drf_spectacular.extensions import OpenApiSerializerFieldExtension
from rest_framework import serializers

from executions.models import Execution, ExecutionLog, StepRun

IDEMPOTENCY_KEY_MAX_LENGTH = 255


class HttpUrlField(serializers.URLField):
    """A URL whose scheme is http or https (DRF's URLField also takes ftp)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(**kwargs)
        message = self.error_messages["invalid"]
        self.validators = [v for v in self.validators if not isinstance(v, URLValidator)]
        self.validators.append(URLValidator(schemes=["http", "https"], message=message))


class EnumField(serializers.ChoiceField):
    """A choice field documented as its own named enum component.

    Runs and steps both have a ``status`` (and requests and runs a ``mode``)
    with different choices; naming each set keeps the OpenAPI enums apart.
    """

    def __init__(self, *, enum_name: str, **kwargs: Any) -> None:
        self.enum_name = enum_name
        super().__init__(**kwargs)


class EnumFieldExtension(OpenApiSerializerFieldExtension):
    target_class = EnumField

    def get_name(self) -> str:
        return self.target.enum_name

    def map_serializer_field(self, auto_schema: Any, direction: Any) -> dict[str, Any]:
        return {"type": "string", "enum": list(self.target.choices)}


class ExecuteInputSerializer(serializers.Serializer):
    input_data = serializers.JSONField(
        default=dict, help_text="The trigger data: any JSON (at most 1 MB), checked against the trigger's input_schema."
    )
    mode = EnumField(
        enum_name="ExecuteModeEnum",
        choices=["async", "sync"],
        default="async",
        help_text="`async` answers 202 at once; `sync` waits for the result up to a bound (then answers 202).",
    )
    webhook_url = HttpUrlField(required=False, max_length=2000, help_text="An http(s) URL called when the run ends.")

    def get_fields(self) -> dict[str, serializers.Field]:
        fields = super().get_fields()
        # The seed documents' spelling (a keyword in Python, hence declared here): true is async, false sync.
        fields["async"] = serializers.BooleanField(
            required=False, write_only=True, help_text="`true`: mode async; `false`: mode sync."
        )
        return fields

    def to_internal_value(self, data: Any) -> dict[str, Any]:
        if isinstance(data, dict) and "execution_mode" in data and "mode" not in data:
            data = {**data, "mode": data["execution_mode"]}  # seed 003's name for it
        values = super().to_internal_value(data)
        if "async" in values:
            flag = values.pop("async")
            if isinstance(data, dict) and "mode" in data and data["mode"] != ("async" if flag else "sync"):
                raise serializers.ValidationError({"async": ["Contradicts mode"]})
            values["mode"] = "async" if flag else "sync"
        return values


class TestExecuteInputSerializer(serializers.Serializer):
    trigger_data = serializers.JSONField(default=dict, help_text="The trigger data of the dry run: any JSON.")


class DecisionInputSerializer(serializers.Serializer):
    comment = serializers.CharField(required=False, allow_blank=True, max_length=2000, default="")


class ExecutionAcceptedSerializer(serializers.ModelSerializer):
    """The short answer to starting a run: where to look for it."""

    id = serializers.UUIDField(read_only=True, help_text="The run's id (as in the full run; also `execution_id`).")
    execution_id = serializers.UUIDField(source="id", read_only=True)
    workflow_id = serializers.UUIDField(read_only=True)
    status = EnumField(enum_name="ExecutionStatusEnum", choices=Execution.Status.choices, read_only=True)
    input_data = serializers.JSONField(read_only=True)

    class Meta:
        model = Execution
        fields = ["id", "execution_id", "workflow_id", "status", "started_at", "created_at", "input_data"]
        read_only_fields = fields


class ExecutionListSerializer(serializers.ModelSerializer):
    workflow_id = serializers.UUIDField(read_only=True)
    workflow_name = serializers.CharField(source="workflow.name", read_only=True)
    workflow_version = serializers.IntegerField(source="workflow_version.number", read_only=True)
    status = EnumField(enum_name="ExecutionStatusEnum", choices=Execution.Status.choices, read_only=True)
    mode = EnumField(enum_name="ExecutionModeEnum", choices=Execution.Mode.choices, read_only=True)
    trigger = EnumField(enum_name="ExecutionTriggerEnum", choices=Execution.Trigger.choices, read_only=True)
    duration = serializers.FloatField(read_only=True, allow_null=True, help_text="Seconds from start to end.")
    parent_id = serializers.UUIDField(read_only=True, allow_null=True)
    retry_of_id = serializers.UUIDField(read_only=True, allow_null=True)

    class Meta:
        model = Execution
        fields = [
            "id",
            "workflow_id",
            "workflow_name",
            "workflow_version",
            "status",
            "mode",
            "trigger",
            "progress",
            "current_step",
            "started_at",
            "completed_at",
            "duration",
            "created_at",
            "parent_id",
            "retry_of_id",
        ]
        read_only_fields = fields


class StepSerializer(serializers.ModelSerializer):
    status = EnumField(enum_name="StepStatusEnum", choices=StepRun.Status.choices, read_only=True)
    output = serializers.JSONField(read_only=True, allow_null=True)
    error = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = StepRun
        fields = ["node_id", "node_type", "status", "attempt", "started_at", "completed_at", "output", "error"]
        read_only_fields = fields


class ExecutionDetailSerializer(ExecutionListSerializer):
    input_data = serializers.JSONField(read_only=True)
    output_data = serializers.JSONField(read_only=True, allow_null=True)
    error = serializers.JSONField(read_only=True, allow_null=True)
    triggered_by = serializers.EmailField(source="triggered_by.email", read_only=True, allow_null=True)
    steps = StepSerializer(many=True, read_only=True, source="ordered_steps", help_text="In definition order.")

    class Meta(ExecutionListSerializer.Meta):
        fields = [
            *ExecutionListSerializer.Meta.fields,
            "input_data",
            "output_data",
            "error",
            "idempotency_key",
            "triggered_by",
            "steps",
        ]
        read_only_fields = fields


class ExecutionLogSerializer(serializers.ModelSerializer):
    level = EnumField(enum_name="LogLevelEnum", choices=ExecutionLog.Level.choices, read_only=True)
    data = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = ExecutionLog
        fields = ["id", "node_id", "level", "message", "data", "created_at"]
        read_only_fields = fields
