from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"

    def ready(self) -> None:
        from executions import tasks  # noqa: F401  (installs the Celery dispatcher)
