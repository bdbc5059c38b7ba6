"""Template reads: who sees which template."""

from __future__ import annotations

from django.db.models import BooleanField, Count, ExpressionWrapper, Q, QuerySet, Value

from accounts.models import User
from templates_app.models import Template


def templates_visible_to(user: User) -> QuerySet[Template]:
    """Built-in templates (inactive ones for staff only) and the user's own; any other is a 404."""
    builtin = Q(is_builtin=True) if user.is_staff else Q(is_builtin=True, is_active=True)
    return Template.objects.filter(builtin | Q(owner=user))


def template_list(user: User) -> QuerySet[Template]:
    """Visible templates with ``parameter_count`` and ``editable`` (whether ``user`` may change it)."""
    editable = Value(True) if user.is_staff else ExpressionWrapper(Q(is_builtin=False), output_field=BooleanField())
    # Visible and not built-in means the user's own.
    return templates_visible_to(user).annotate(parameter_count=Count("parameters"), editable=editable)
