"""factory_boy factories shared by the test suite."""

from __future__ import annotations

from typing import Any

import factory
from django.contrib.auth.models import Group

from accounts.models import User
from accounts.roles import DEFAULT_ROLE
from executions.models import Execution
from tests.workflows.helpers import simple_definition
from workflows.models import Workflow, WorkflowVersion

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


class WorkflowFactory(factory.django.DjangoModelFactory):
    """A workflow with its first version (created as the service would)."""

    class Meta:
        model = Workflow
        skip_postgeneration_save = True

    owner = factory.SubFactory(UserFactory)
    name = factory.Sequence(lambda n: f"Workflow {n}")
    definition = factory.LazyFunction(simple_definition)
    version = 1

    @factory.post_generation
    def first_version(self, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            WorkflowVersion.objects.create(
                workflow=self, number=self.version, definition=self.definition, author=self.owner
            )


class ExecutionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Execution

    workflow = factory.SubFactory(WorkflowFactory)
    workflow_version = factory.LazyAttribute(lambda o: o.workflow.versions.order_by("-number").first())
    owner = factory.LazyAttribute(lambda o: o.workflow.owner)
    status = Execution.Status.COMPLETED
