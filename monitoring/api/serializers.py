"""Shapes of the monitoring endpoints (for the OpenAPI schema; the views build plain dicts)."""

from __future__ import annotations

from rest_framework import serializers


class HealthCheckSerializer(serializers.Serializer):
    ok = serializers.BooleanField()
    critical = serializers.BooleanField(help_text="Whether a failure makes the service unavailable (503).")
    response_time_ms = serializers.FloatField()
    error = serializers.CharField(allow_null=True)
    detail = serializers.JSONField(allow_null=True, required=False)


class HealthSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=["ok", "degraded", "unavailable"],
        help_text="`unavailable` (503) when a critical dependency is down; `degraded` when only workers are missing.",
    )
    timestamp = serializers.DateTimeField()
    checks = serializers.DictField(child=HealthCheckSerializer(), required=False, help_text="Staff only.")


class SystemMemorySerializer(serializers.Serializer):
    total_bytes = serializers.IntegerField(allow_null=True)
    available_bytes = serializers.IntegerField(allow_null=True)
    used_percent = serializers.FloatField(allow_null=True)


class SystemProcessSerializer(serializers.Serializer):
    pid = serializers.IntegerField()
    rss_bytes = serializers.IntegerField(allow_null=True)
    cpu_seconds = serializers.FloatField()
    uptime_seconds = serializers.FloatField()


class MetricsSystemSerializer(serializers.Serializer):
    cpu_count = serializers.IntegerField(allow_null=True)
    load_average = serializers.ListField(child=serializers.FloatField(), allow_null=True)
    memory = SystemMemorySerializer()
    process = SystemProcessSerializer()


class ApplicationRequestsSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    by_status_class = serializers.DictField(child=serializers.IntegerField())


class MetricsApplicationSerializer(serializers.Serializer):
    mode = serializers.ChoiceField(choices=["embedded", "production"])
    requests = ApplicationRequestsSerializer(help_text="Answered by this process since it started.")
    users = serializers.DictField(child=serializers.IntegerField())
    api_keys_active = serializers.IntegerField()
    audit_events_24h = serializers.IntegerField()


class MetricsRunStatsSerializer(serializers.Serializer):
    since = serializers.DateTimeField()
    runs = serializers.IntegerField()
    completed = serializers.IntegerField()
    failed = serializers.IntegerField(help_text="failed and timed_out")
    cancelled = serializers.IntegerField()
    failure_rate = serializers.FloatField(allow_null=True, help_text="failed / (completed + failed)")
    p50_seconds = serializers.FloatField(allow_null=True)
    p95_seconds = serializers.FloatField(allow_null=True)
    queued = serializers.IntegerField()
    running = serializers.IntegerField()
    waiting = serializers.IntegerField()


class MetricsQueueSerializer(serializers.Serializer):
    available = serializers.BooleanField()
    queues = serializers.DictField(child=serializers.IntegerField())
    error = serializers.CharField(allow_null=True)


class WorkflowMetricsSerializer(serializers.Serializer):
    workflows = serializers.DictField(child=serializers.IntegerField())
    executions_by_status = serializers.DictField(child=serializers.IntegerField())
    last_24h = MetricsRunStatsSerializer()
    queue = MetricsQueueSerializer()
    workers = serializers.ListField(child=serializers.CharField(), allow_null=True)


class MetricsProviderUsageSerializer(serializers.Serializer):
    provider = serializers.CharField()
    requests = serializers.IntegerField()
    prompt_tokens = serializers.IntegerField()
    completion_tokens = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField()


class MetricsModelUsageSerializer(MetricsProviderUsageSerializer):
    model = serializers.CharField()


class MetricsAIUsageSerializer(serializers.Serializer):
    available = serializers.BooleanField(help_text="false until the integrations app records AI usage")
    requests = serializers.IntegerField()
    total_tokens = serializers.IntegerField()
    cost = serializers.FloatField()
    providers = MetricsProviderUsageSerializer(many=True)
    models = MetricsModelUsageSerializer(many=True)


class MetricsSerializer(serializers.Serializer):
    timestamp = serializers.DateTimeField()
    system = MetricsSystemSerializer()
    application = MetricsApplicationSerializer()
    workflows = WorkflowMetricsSerializer()
    ai_usage = MetricsAIUsageSerializer(help_text="The last 24 hours.")
