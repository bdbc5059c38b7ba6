from __future__ import annotations

from typing import Any

from rest_framework import serializers


class AnalyticsQuerySerializer(serializers.Serializer):
    user = serializers.UUIDField(required=False, help_text="Staff only: another user's analytics.")
    from_ = serializers.CharField(required=False, help_text="Date or ISO 8601 time. Default: 30 days before `to`.")
    to = serializers.CharField(required=False, help_text="Date (inclusive) or ISO 8601 time. Default: now.")

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class AnalyticsUserSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.EmailField()


class AnalyticsPeriodSerializer(serializers.Serializer):
    user = AnalyticsUserSerializer()
    from_ = serializers.DateTimeField()
    to = serializers.DateTimeField()

    def get_fields(self) -> dict[str, Any]:
        fields = super().get_fields()
        fields["from"] = fields.pop("from_")
        return fields


class AnalyticsRunTotalsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="failed and timed_out")
    cancelled = serializers.IntegerField()
    active = serializers.IntegerField(help_text="queued, running or waiting")
    success_rate = serializers.FloatField(allow_null=True, help_text="completed / (completed + failed)")
    average_duration = serializers.FloatField(allow_null=True, help_text="Seconds, of the runs that ended.")


class AnalyticsLLMTotalsSerializer(serializers.Serializer):
    requests = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField()


class AnalyticsDailySerializer(serializers.Serializer):
    date = serializers.DateField()
    executions = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    api_calls = serializers.IntegerField()


class AnalyticsUsageSerializer(AnalyticsPeriodSerializer):
    executions = AnalyticsRunTotalsSerializer()
    api_calls = serializers.IntegerField(help_text="Counted per UTC day: partial days at the ends count whole.")
    llm = AnalyticsLLMTotalsSerializer()
    daily = AnalyticsDailySerializer(many=True)


class AnalyticsWorkflowSerializer(serializers.Serializer):
    workflow_id = serializers.UUIDField()
    name = serializers.CharField()
    executions = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField()
    cancelled = serializers.IntegerField()
    active = serializers.IntegerField()
    success_rate = serializers.SerializerMethodField()
    average_duration = serializers.SerializerMethodField()
    last_run_at = serializers.DateTimeField()

    def get_success_rate(self, row: dict[str, Any]) -> float | None:
        value = row["success_rate"]
        return round(value, 4) if value is not None else None

    def get_average_duration(self, row: dict[str, Any]) -> float | None:
        value = row["average_duration"]
        return round(value, 3) if value is not None else None


class AnalyticsProviderCostSerializer(serializers.Serializer):
    provider = serializers.CharField()
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField()


class AnalyticsModelCostSerializer(AnalyticsProviderCostSerializer):
    model = serializers.CharField()


class AnalyticsCostsSerializer(AnalyticsPeriodSerializer):
    available = serializers.BooleanField(help_text="false while no AI usage is recorded by this installation")
    requests = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField()
    providers = AnalyticsProviderCostSerializer(many=True)
    models = AnalyticsModelCostSerializer(many=True)
