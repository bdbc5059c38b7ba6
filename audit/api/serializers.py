from __future__ import annotations

from typing import Any

from rest_framework import serializers

from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    actor = serializers.UUIDField(source="actor_id", allow_null=True, read_only=True)
    changes = serializers.JSONField(read_only=True)

    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "created_at",
            "actor",
            "actor_email",
            "action",
            "object_type",
            "object_id",
            "object_repr",
            "changes",
            "ip",
            "user_agent",
            "request_id",
            "source",
        ]
        read_only_fields = fields


class AuditQuerySerializer(serializers.Serializer):
    """The list's query parameters (``from``/``to`` are parsed by flowbuilder.api.ranges)."""

    actor = serializers.UUIDField(required=False, help_text="The acting user's id.")
    action = serializers.CharField(
        required=False, max_length=100, help_text="Exact action, or a prefix ending in * (e.g. auth.*)."
    )
    object_type = serializers.CharField(required=False, max_length=100, help_text="e.g. workflows.workflow")
    object_id = serializers.CharField(required=False, max_length=64)
    source = serializers.ChoiceField(choices=AuditEvent.Source.choices, required=False)
    from_ = serializers.CharField(required=False, help_text="Date or ISO 8601 time; events at or after it.")
    to = serializers.CharField(required=False, help_text="Date (inclusive) or ISO 8601 time; events before it.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields
