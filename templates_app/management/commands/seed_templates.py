from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from flowbuilder.api.errors import ValidationFailed
from templates_app import services
from templates_app.gallery import GALLERY


class Command(BaseCommand):
    help = (
        "Install or update the built-in template gallery, by each template's key: safe to run on every "
        "start (nothing is duplicated; a hidden built-in stays hidden; usage counts are kept)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            report = services.builtin_templates_sync(gallery=GALLERY)
        except ValidationFailed as exc:
            problems = "; ".join(f"{d.get('field')}: {d['message']}" for d in exc.details)
            raise CommandError(f"A built-in template is invalid: {problems}") from None
        summary = (
            f"Templates: {len(report.created)} created, {len(report.updated)} updated, "
            f"{len(report.unchanged)} unchanged"
        )
        self.stdout.write(summary)
        if options["verbosity"] > 1:
            for label, keys in (("created", report.created), ("updated", report.updated)):
                for key in keys:
                    self.stdout.write(f"  {label}: {key}")
