from __future__ import annotations

from django.apps import AppConfig


class FilesConfig(AppConfig):
    name = "files"
    verbose_name = "Files"

    def ready(self) -> None:
        from executions.engine import files as engine_files
        from files import receivers  # noqa: F401  (connects to executions.signals)
        from files.runtime import StoredFileStore

        engine_files.install(StoredFileStore())
