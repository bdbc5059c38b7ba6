from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from accounts import schema  # noqa: F401  (registers the OpenAPI auth schemes)
        from accounts.services import console_role_sync

        # After each app's migrations (its permissions exist from then on), not once: an app
        # migrated after this one would otherwise miss the group.
        post_migrate.connect(console_role_sync, dispatch_uid="accounts.console_role_sync")
