from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from audit.context import audit_scope
from audit.services import audit_purge
from flowbuilder.durations import parse_duration


class Command(BaseCommand):
    help = (
        "Delete audit events older than --older-than (default: FLOWBUILDER_AUDIT_RETENTION_DAYS, "
        "where 0 keeps everything). Beat runs the same purge daily."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--older-than", help="Age like 365d, 12h or 30m. Default: the retention setting.")
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args: Any, older_than: str | None, dry_run: bool, **options: Any) -> None:
        try:
            age = parse_duration(older_than) if older_than else None
        except ValueError as exc:
            raise CommandError(f"--older-than: {exc}") from None
        if age is None and not settings.FLOWBUILDER_AUDIT_RETENTION_DAYS:
            self.stdout.write("FLOWBUILDER_AUDIT_RETENTION_DAYS is 0: audit events are kept forever.")
            return
        with audit_scope(source="cli"):
            count = audit_purge(older_than=age, dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} audit event(s).")
