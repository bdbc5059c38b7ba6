from __future__ import annotations

from typing import Any

from django import template

from console.dashboard import dashboard

register = template.Library()


@register.inclusion_tag("console/dashboard.html", takes_context=True)
def console_dashboard(context: dict[str, Any]) -> dict[str, Any]:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not (user.is_active and user.is_staff):
        return {"visible": False}
    return {"visible": True, **dashboard()}
