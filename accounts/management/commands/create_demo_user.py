from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand

from accounts.models import User
from accounts.roles import DEFAULT_ROLE
from accounts.services import console_access_set

DEMO_EMAIL = "demo@flowbuilder.local"


class Command(BaseCommand):
    help = "Create (or reset) the demo user of the embedded mode and print its credentials."

    def handle(self, *args: Any, **options: Any) -> None:
        password_file = settings.DATA_DIR / "demo_password"
        if not password_file.exists():
            password_file.write_text(secrets.token_urlsafe(12))
            password_file.chmod(0o600)
        password = password_file.read_text().strip()
        user = User.objects.filter(email__iexact=DEMO_EMAIL).first()
        if user is None:
            user = User.objects.create_user(DEMO_EMAIL, password, first_name="Demo", is_staff=True)
        elif not user.check_password(password):
            user.set_password(password)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=DEFAULT_ROLE))
        # The console role, not superuser: the demo shows what an operator sees and does.
        console_access_set(user=user)
        self.stdout.write(
            self.style.SUCCESS("Demo user (also a console operator, for /admin/):")
            + f"\n  e-mail:   {DEMO_EMAIL}\n  password: {password}"
        )
