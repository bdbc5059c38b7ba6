"""Template reads: who sees which template."""

from __future__ import annotations

from django.db.models import Count, Q, QuerySet

from accounts.models import User
from templates_app.models import Template


def templates_visible_to(user: User) -> QuerySet[Template]:
    """Built-in templates (inactive ones for staff only) and the user's own; any other is a 404."""
    builtin = Q(is_builtin=True) if user.is_staff else Q(is_builtin=True, is_active=True)
    return Template.objects.filter(builtin | Q(owner=user))


def template_list(user: User) -> QuerySet[Template]:
    """Visible templates with ``parameter_count``."""
    return templates_visible_to(user).annotate(parameter_count=Count("parameters"))


def template_editable_by(template: Template, user: User) -> bool:
    """The owner edits their templates; built-in ones are read-only except for staff."""
    return user.is_staff if template.is_builtin else template.owner_id == user.pk
