from django.apps import AppConfig


class ConsoleConfig(AppConfig):
    """The staff console: the admin's dashboard and the helpers every app's admin shares."""

    name = "console"
    verbose_name = "Staff console"
