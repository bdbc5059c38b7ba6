from __future__ import annotations

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files"

    def ready(self) -> None:
        from files import receivers  # noqa: F401  (connects to executions.signals)
