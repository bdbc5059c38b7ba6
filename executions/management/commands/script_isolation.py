from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from executions.engine import sandbox


class Command(BaseCommand):
    help = (
        "Print the OS isolation script nodes run under (FLOWBUILDER_SCRIPT_ISOLATION), after trying a real "
        "sandbox, or why scripts are refused. `make run` prints it at start-up."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--check", action="store_true", help="Exit with an error when scripts are refused.")

    def handle(self, *args: Any, check: bool = False, **options: Any) -> None:
        isolation = sandbox.current_isolation()
        if isolation.available and isolation.mode == "bubblewrap":
            self.stdout.write(self.style.SUCCESS(f"Script isolation: {isolation.summary}"))
        elif isolation.available:
            self.stdout.write(self.style.WARNING(f"Script isolation: {isolation.summary}"))
        else:
            line = f"Script isolation: {isolation.summary}. Script nodes will fail until this is fixed."
            if check:
                raise CommandError(line)
            self.stdout.write(self.style.WARNING(line))
