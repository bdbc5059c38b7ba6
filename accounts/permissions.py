"""DRF permission classes for the ``resource:action`` permissions of SPEC §3."""

from __future__ import annotations

from typing import Any

from rest_framework.permissions import BasePermission
from rest_framework.request import Request

from accounts.authentication import granted_permissions


class HasApiPermission(BasePermission):
    """Requires the permission the view names for this action or method.

    Views set ``required_permissions`` to a mapping from viewset action (or
    HTTP method) to a permission such as ``"workflow:read"``; unnamed actions
    need only authentication.
    """

    message = "You do not have permission to do this"

    def has_permission(self, request: Request, view: Any) -> bool:
        if not request.user or not request.user.is_authenticated:
            return False
        required = getattr(view, "required_permissions", {})
        needed = required.get(getattr(view, "action", None) or "") or required.get(request.method)
        if needed is None:
            return True
        return needed in granted_permissions(request)


class IsStaff(BasePermission):
    def has_permission(self, request: Request, view: Any) -> bool:
        return bool(request.user and request.user.is_authenticated and request.user.is_staff)
