from __future__ import annotations

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from executions import selectors, services
from executions.models import Execution
from flowbuilder import embedded
from flowbuilder.api.errors import ApplicationError
from flowbuilder.ids import parse_uuid
from workflows.models import Workflow


class Command(BaseCommand):
    help = (
        "Run a workflow as its owner and wait for the result: prints the run's output_data as JSON on stdout and "
        "its id and status on stderr. Exits non-zero when the workflow does not exist, the input is invalid, "
        "or the run fails, is cancelled or does not end within --timeout (it then keeps running). Steps run "
        "on the Celery workers; with the in-memory broker an in-process worker is started."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("workflow_id", help="The workflow's id (a UUID).")
        parser.add_argument(
            "--input",
            dest="input_json",
            default="{}",
            help="The trigger data as JSON, e.g. '{\"n\": 21}'. Default: {}.",
        )
        parser.add_argument(
            "--timeout", type=float, default=60, help="Seconds to wait for the run to end (default 60)."
        )
        parser.add_argument(
            "--dry-run",
            action="store_true",
            help="Simulate side effects (e-mail, non-GET HTTP, webhooks), auto-approve approvals, skip delays.",
        )

    def handle(
        self, *args: Any, workflow_id: str, input_json: str, timeout: float, dry_run: bool, **options: Any
    ) -> None:
        if timeout <= 0:
            raise CommandError("--timeout must be a positive number of seconds")
        pk = parse_uuid(workflow_id)
        workflow = Workflow.objects.filter(pk=pk).select_related("owner").first() if pk else None
        if workflow is None:
            raise CommandError(f"No workflow with id {workflow_id}")
        try:
            input_data = json.loads(input_json)
        except ValueError as exc:
            raise CommandError(f"--input is not valid JSON: {exc}") from None

        embedded.start()  # an in-process worker, only when the broker is memory://
        try:
            execution, _ = services.execution_start(
                workflow=workflow,
                input_data=input_data,
                actor=workflow.owner,
                mode=Execution.Mode.DRY_RUN if dry_run else Execution.Mode.LIVE,
            )
        except ApplicationError as exc:
            problems = [f"{d['field']}: {d['message']}" if d.get("field") else d["message"] for d in exc.details]
            raise CommandError("; ".join([exc.message, *problems])) from None
        self.stderr.write(f"Execution {execution.pk} started ({execution.mode}); waiting up to {timeout:g}s")

        execution = selectors.execution_wait(execution.pk, timeout)
        if not execution.is_finished:
            raise CommandError(f"Execution {execution.pk} did not end within {timeout:g}s (it is {execution.status})")
        self.stdout.write(json.dumps(execution.output_data, indent=2, sort_keys=True, default=str))
        duration = f" in {execution.duration:.3f}s" if execution.duration is not None else ""
        self.stderr.write(f"Execution {execution.pk} {execution.status}{duration}")
        if execution.status != Execution.Status.COMPLETED:
            message = (execution.error or {}).get("message") or "no error message"
            raise CommandError(f"Execution {execution.pk} {execution.status}: {message}")
