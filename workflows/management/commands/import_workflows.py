from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from accounts.models import User
from audit.context import audit_scope
from flowbuilder.api.errors import ApplicationError
from workflows.services import workflow_import


def _describe(exc: ApplicationError) -> str:
    problems = [f"{d['field']}: {d['message']}" if d.get("field") else d["message"] for d in exc.details]
    return "; ".join([exc.message, *problems[:5]])


class Command(BaseCommand):
    help = (
        "Import workflows for a user from files (- for stdin). A file holds one workflow (a Flowbuilder export, "
        "a seed workflow object, an n8n workflow or a bare definition) or a JSON list of them, as export_workflows "
        "writes. Each workflow is validated and imported on its own; exits non-zero if any failed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("files", nargs="+", metavar="FILE", help="JSON files, or - for stdin.")
        parser.add_argument("--user", required=True, help="The e-mail of the user who will own the workflows.")
        parser.add_argument("--inactive", action="store_true", help="Import them deactivated (no schedules fire).")

    def handle(self, *args: Any, files: list[str], user: str, inactive: bool, **options: Any) -> None:
        owner = User.objects.filter(email__iexact=user).first()
        if owner is None:
            raise CommandError(f"No user with e-mail {user}")
        imported = failed = 0
        with audit_scope(source="cli"):
            for name in files:
                for index, payload in enumerate(self._payloads(name)):
                    where = f"{name}[{index}]"
                    try:
                        workflow, warnings = workflow_import(owner=owner, payload=payload, is_active=not inactive)
                    except ApplicationError as exc:
                        failed += 1
                        self.stderr.write(f"{where}: not imported: {_describe(exc)}")
                        continue
                    imported += 1
                    self.stdout.write(f"{where}: imported '{workflow.name}' as {workflow.pk}")
                    for warning in warnings:
                        self.stderr.write(f"{where}: warning: {warning.get('message', warning)}")
        self.stderr.write(f"Imported {imported} workflow(s), {failed} failed.")
        if failed:
            raise CommandError(f"{failed} workflow(s) could not be imported")

    def _payloads(self, name: str) -> list[Any]:
        try:
            text = sys.stdin.read() if name == "-" else Path(name).read_text()
        except OSError as exc:
            raise CommandError(f"{name}: {exc.strerror or exc}") from None
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise CommandError(f"{name}: not valid JSON: {exc}") from None
        return data if isinstance(data, list) else [data]
