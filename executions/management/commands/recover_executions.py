from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand

from executions.engine import recovery


class Command(BaseCommand):
    help = (
        "Run the recovery sweep once and print its report: re-queue runs and steps whose messages were lost, "
        "start runs held by a concurrency limit, re-run steps whose worker died, dispatch due retries, wake "
        "delays that are over and approvals that expired, and time out runs past their deadline. Beat runs the "
        "same sweep every FLOWBUILDER_SWEEP_INTERVAL_SECONDS; this is for operators (e.g. after an outage)."
    )

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--json", action="store_true", dest="as_json", help="Print the report as one JSON object.")

    def handle(self, *args: Any, as_json: bool = False, **options: Any) -> None:
        report = recovery.sweep().as_dict()
        if as_json:
            self.stdout.write(json.dumps(report, sort_keys=True))
            return
        width = max(len(name) for name in report)
        for name, count in report.items():
            self.stdout.write(f"{name.ljust(width)}  {count}")
        self.stdout.write(self.style.SUCCESS(f"Recovery sweep done: {sum(report.values())} action(s)."))
