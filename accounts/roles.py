"""Roles and permissions of SPEC §3.

Roles are Django groups (created by migration ``0002_roles``); permissions are
Django permissions on the user model with codenames like ``workflow:read``.
API keys and cross-system tokens carry scopes, a subset of these.
"""

from __future__ import annotations

PERMISSIONS: dict[str, str] = {
    "workflow:read": "Read workflows",
    "workflow:create": "Create workflows",
    "workflow:update": "Update workflows",
    "workflow:delete": "Delete workflows",
    "workflow:execute": "Execute workflows",
    "execution:read": "Read executions",
    "execution:cancel": "Cancel executions",
    "log:read": "Read execution logs",
    "credential:read": "Read credentials",
    "credential:write": "Create and change credentials",
    "template:read": "Read templates",
    "template:write": "Create and change templates",
}

ADMIN, EDITOR, OPERATOR, VIEWER, GUEST = "admin", "editor", "operator", "viewer", "guest"

ROLES: dict[str, frozenset[str]] = {
    ADMIN: frozenset(PERMISSIONS),
    # Editors own what they build: every permission, on their own objects.
    EDITOR: frozenset(PERMISSIONS),
    OPERATOR: frozenset(
        {
            "workflow:read",
            "workflow:execute",
            "execution:read",
            "execution:cancel",
            "log:read",
            "credential:read",
            "template:read",
        }
    ),
    VIEWER: frozenset({"workflow:read", "execution:read", "log:read", "template:read"}),
    # Guests try things out: read templates, build and dry-run workflows; no credentials.
    GUEST: frozenset(
        {
            "template:read",
            "workflow:read",
            "workflow:create",
            "workflow:update",
            "workflow:execute",
            "execution:read",
            "log:read",
        }
    ),
}

DEFAULT_ROLE = EDITOR
