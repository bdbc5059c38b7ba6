"""DRF permission classes for the ``resource:action`` permissions of SPEC §3.

Every API endpoint declares what it needs (``tests/accounts/test_scopes.py`` walks the URL
conf and fails on one that does not), and the check is the same for every caller: what
their roles grant, narrowed by an API key's scopes (``granted_permissions``). An action
that is not declared is refused: forgetting a declaration cannot open an endpoint.
"""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.authentication import granted_permissions

# Declared for actions that need a signed-in caller and nothing more (their own profile).
AUTHENTICATED = "authenticated"


def needed_permission(view: Any, method: str) -> str | None:
    """What ``view`` declares for this request: by ``"action.METHOD"``, action, then method; None if nothing."""
    required: dict[str, str] = getattr(view, "required_permissions", {})
    action = getattr(view, "action", None) or ""
    for key in (f"{action}.{method}", action, method):
        if key and key in required:
            return required[key]
    return None


class HasApiPermission(BasePermission):
    """Requires the permission the view names for this action or method.

    Views set ``required_permissions`` to a mapping from ``"action.METHOD"``, viewset action
    or HTTP method to a permission such as ``"workflow:read"`` (or :data:`AUTHENTICATED`).
    """

    message = "You do not have permission to do this"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        needed = needed_permission(view, request.method or "")
        if needed is None:  # refused, unless the view does not answer this method at all (then a 405)
            return request.method == "OPTIONS" or getattr(view, (request.method or "").lower(), None) is None
        if needed == AUTHENTICATED:
            return True
        if needed in granted_permissions(request):
            return True
        self.message = f"Your access does not include {needed}"
        return False


class SessionOnly(BasePermission):
    """A person's own session (a JWT or the admin's cookie), not an API key: for what a key must never do."""

    message = "This needs your own session; API keys cannot do it"

    def has_permission(self, request: Request, view: Any) -> bool:
        from accounts.models import ApiKey

        return not isinstance(request.auth, ApiKey)


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
