from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from accounts.models import User
from accounts.services import console_access_set


class Command(BaseCommand):
    help = "Give a user the staff console (/admin/: see everything, operate runs) without making them a superuser."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("email", help="The user's e-mail address.")
        parser.add_argument("--revoke", action="store_true", help="Take the console away instead.")

    def handle(self, *args: Any, email: str, revoke: bool, **options: Any) -> None:
        user = User.objects.filter(email__iexact=email).first()
        if user is None:
            raise CommandError(f"No user with e-mail {email}")
        console_access_set(user=user, granted=not revoke)
        self.stdout.write(f"{user.email} {'no longer has' if revoke else 'now has'} the staff console")
