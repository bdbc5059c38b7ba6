"""Re-encrypt every stored secret under the first of FLOWBUILDER_ENCRYPTION_KEYS."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from integrations import crypto
from integrations.services import encryption_key_rotate

HOW = """\
To rotate without downtime:
  1. Make a key:                 manage.py rotate_encryption_key --generate
  2. Put it FIRST in FLOWBUILDER_ENCRYPTION_KEYS (NEW,OLD) on every process and restart them.
     (For a rolling restart, first deploy OLD,NEW so that every process can read NEW, then NEW,OLD.)
  3. Run:                        manage.py rotate_encryption_key
  4. Once it reports nothing unreadable, drop OLD from the list.
"""


class Command(BaseCommand):
    help = "Re-encrypt every stored secret under the first key of FLOWBUILDER_ENCRYPTION_KEYS (idempotent, online)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=200, help="Rows locked and rewritten per transaction.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would be re-encrypted; write nothing.")
        parser.add_argument("--generate", action="store_true", help="Print a new Fernet key and how to rotate to it.")

    def handle(self, *args: Any, batch_size: int, dry_run: bool, generate: bool, **options: Any) -> None:
        if generate:
            self.stdout.write(crypto.generate_key())
            self.stderr.write(HOW)
            return
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1")
        report = encryption_key_rotate(batch_size=batch_size, dry_run=dry_run)
        verb = "Would re-encrypt" if dry_run else "Re-encrypted"
        self.stdout.write(
            f"{verb} {report.rotated} of {report.total} secret(s) under the first key; {report.current} already were."
        )
        if report.unreadable:
            raise CommandError(
                f"{len(report.unreadable)} secret(s) could not be decrypted with any configured key: "
                + ", ".join(report.unreadable[:20])
            )
