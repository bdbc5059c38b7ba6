"""Runs and steps end ``completed`` (SPEC §3: the word seeds 002 and 003 and Temporal use), not ``succeeded``."""

from django.db import migrations, models


def _rename(apps, old: str, new: str) -> None:
    for model in ("Execution", "StepRun"):
        apps.get_model("executions", model).objects.filter(status=old).update(status=new)


def forwards(apps, schema_editor):
    _rename(apps, "succeeded", "completed")


def backwards(apps, schema_editor):
    _rename(apps, "completed", "succeeded")


class Migration(migrations.Migration):
    dependencies = [
        ("executions", "0001_initial"),
    ]

    operations = [
        migrations.AlterField(
            model_name="execution",
            name="status",
            field=models.CharField(
                choices=[
                    ("queued", "Queued"),
                    ("running", "Running"),
                    ("waiting", "Waiting"),
                    ("completed", "Completed"),
                    ("failed", "Failed"),
                    ("cancelled", "Cancelled"),
                    ("timed_out", "Timed Out"),
                ],
                default="queued",
                max_length=16,
            ),
        ),
        migrations.AlterField(
            model_name="steprun",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("running", "Running"),
                    ("retrying", "Retrying"),
                    ("waiting", "Waiting"),
                    ("completed", "Completed"),
                    ("failed", "Failed"),
                    ("skipped", "Skipped"),
                    ("cancelled", "Cancelled"),
                ],
                default="pending",
                max_length=16,
            ),
        ),
        migrations.RunPython(forwards, backwards, elidable=True),
    ]
