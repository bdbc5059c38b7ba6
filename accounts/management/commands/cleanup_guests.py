from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from accounts.services import guests_cleanup


class Command(BaseCommand):
    help = "Delete guest users whose session has expired, with everything they made."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--dry-run", action="store_true", help="Only count what would be deleted.")

    def handle(self, *args: Any, dry_run: bool, **options: Any) -> None:
        count = guests_cleanup(dry_run=dry_run)
        verb = "Would delete" if dry_run else "Deleted"
        self.stdout.write(f"{verb} {count} expired guest user(s).")
