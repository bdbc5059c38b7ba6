"""factory_boy factories shared by the test suite."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import DEFAULT_ROLE

DEFAULT_PASSWORD = "correct-horse-battery-staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.com")
    first_name = "Ada"
    last_name = "Lovelace"
    password = factory.django.Password(DEFAULT_PASSWORD)

    @factory.post_generation
    def role(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            self.groups.add(Group.objects.get(name=extracted or DEFAULT_ROLE))
