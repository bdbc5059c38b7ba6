from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from accounts.models import User
from accounts.services import api_key_create
from flowbuilder.api.errors import ApplicationError


class Command(BaseCommand):
    help = "Create an API key for a user and print it (it is shown this once)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email", help="The user's e-mail address.")
        parser.add_argument("--name", default="cli", help="A label for the key.")
        parser.add_argument(
            "--scope",
            action="append",
            dest="scopes",
            help="A permission, e.g. workflow:read (repeatable). Default: all the user holds.",
        )
        parser.add_argument("--expires-in-days", type=int, default=None, help="Expire the key after this many days.")

    def handle(
        self, *args: Any, email: str, name: str, scopes: list[str] | None, expires_in_days: int | None, **options: Any
    ) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}")
        expires_at = timezone.now() + timedelta(days=expires_in_days) if expires_in_days else None
        try:
            key, raw = api_key_create(
                user=user, granted=user.api_permissions, name=name, scopes=scopes, expires_at=expires_at
            )
        except ApplicationError as exc:
            raise CommandError("; ".join([exc.message, *(d["message"] for d in exc.details)])) from None
        self.stdout.write(raw)
        self.stderr.write(f"Created API key '{key.name}' for {user.email} with scopes: {', '.join(key.scopes)}")
