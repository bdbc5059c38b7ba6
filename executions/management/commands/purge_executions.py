from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import audit_scope
from executions.services import executions_purge
from flowbuilder.durations import parse_duration


class Command(BaseCommand):
    help = (
        "Delete finished runs (completed, failed, cancelled, timed out) created longer ago than --older-than, "
        "with their steps, logs and child runs. Active runs are never deleted."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", required=True, help="Age like 30d, 12h or 45m.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")
        parser.add_argument("--batch-size", type=int, default=500, help="Runs deleted per transaction (default 500).")

    def handle(self, *args: Any, older_than: str, dry_run: bool, batch_size: int, **options: Any) -> None:
        try:
            age = parse_duration(older_than)
        except ValueError as exc:
            raise CommandError(f"--older-than: {exc}") from None
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        with audit_scope(source="cli"):
            count = executions_purge(older_than=age, dry_run=dry_run, batch_size=batch_size)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} finished run(s) older than {older_than}.")
