"""Give workflows saved before triggers had outside state their webhook token and beat entry."""

import json
import secrets

from django.db import migrations


def _trigger(definition):
    for node in (definition or {}).get("nodes", []):
        if isinstance(node, dict) and str(node.get("type", "")).startswith("trigger."):
            return node
    return None


def forwards(apps, schema_editor):
    from executions.engine import cron

    Workflow = apps.get_model("workflows", "Workflow")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    for workflow in Workflow.objects.all().iterator():
        node = _trigger(workflow.definition) or {}
        config = node.get("config") or {}
        if node.get("type") == "trigger.webhook" and not workflow.webhook_token:
            workflow.webhook_token = secrets.token_urlsafe(32)
            workflow.save(update_fields=["webhook_token"])
        elif node.get("type") == "trigger.schedule":
            name = f"workflow-schedule:{workflow.pk}"
            if PeriodicTask.objects.filter(name=name).exists():
                continue
            try:
                fields = cron.beat_fields(config.get("cron", ""))
                zone = cron.zone(config.get("timezone") or "UTC")
            except cron.CronError:
                continue
            crontab = CrontabSchedule.objects.create(timezone=zone, **fields)
            PeriodicTask.objects.create(
                name=name,
                task="workflows.fire_schedule",
                crontab=crontab,
                args=json.dumps([str(workflow.pk)]),
                kwargs="{}",
                enabled=workflow.is_active,
                description=f"Schedule of workflow '{workflow.name}'"[:1000],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("workflows", "0002_webhook_token"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
