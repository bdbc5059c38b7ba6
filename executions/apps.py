from django.apps import AppConfig


class ExecutionsConfig(AppConfig):
    name = "executions"

    def ready(self) -> None:
        from executions import services, tasks  # noqa: F401  (tasks installs the Celery dispatcher)
        from executions.engine import children
        from executions.live import revocation  # noqa: F401  (connects its receiver)

        children.install(services.child_workflow_for)
