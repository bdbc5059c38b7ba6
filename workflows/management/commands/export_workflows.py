from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from workflows.models import Workflow
from workflows.selectors import workflow_export


def _filename(workflow: Workflow) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", workflow.name.lower()).strip("-")[:60] or "workflow"
    return f"{slug}-{workflow.pk}.json"


class Command(BaseCommand):
    help = (
        "Export workflows in the format `POST /workflows/import` and `manage.py import_workflows` take. "
        "With --out - (the default) prints a JSON list of exports; with --out DIR writes one file per workflow."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--user", help="Only this owner's workflows (e-mail). Default: everyone's.")
        parser.add_argument("--out", default="-", help="A directory to write files into, or - for stdout (default).")

    def handle(self, *args: Any, user: str | None, out: str, **options: Any) -> None:
        workflows = Workflow.objects.select_related("owner").prefetch_related("tags").order_by("owner__email", "name")
        if user:
            owner = User.objects.filter(email__iexact=user).first()
            if owner is None:
                raise CommandError(f"No user with e-mail {user}")
            workflows = workflows.filter(owner=owner)
        exports = [(workflow, workflow_export(workflow)) for workflow in workflows]
        if out == "-":
            self.stdout.write(json.dumps([export for _, export in exports], indent=2, sort_keys=True))
        else:
            directory = Path(out)
            if directory.exists() and not directory.is_dir():
                raise CommandError(f"--out {out} is not a directory")
            directory.mkdir(parents=True, exist_ok=True)
            for workflow, export in exports:
                (directory / _filename(workflow)).write_text(json.dumps(export, indent=2, sort_keys=True) + "\n")
        self.stderr.write(f"Exported {len(exports)} workflow(s).")
