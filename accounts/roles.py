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
    "execution:approve": "Approve or reject waiting approval steps",
    "log:read": "Read execution logs",
    "credential:read": "Read credentials",
    "credential:write": "Create and change credentials",
    "template:read": "Read templates",
    "template:write": "Create and change templates",
    "file:read": "List and download files",
    "file:write": "Upload and delete files",
    "api_key:write": "List, create and delete API keys",
    "analytics:read": "Read usage analytics",
}
# Added after API keys existed (migration 0003_scopes): a key that held every permission of
# the time got them; narrower keys did not.

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
            "execution:approve",
            "log:read",
            "credential:read",
            "template:read",
            "file:read",
            "file:write",
            "api_key:write",
            "analytics:read",
        }
    ),
    VIEWER: frozenset(
        {
            "workflow:read",
            "execution:read",
            "execution:approve",
            "log:read",
            "template:read",
            "file:read",
            "api_key:write",
            "analytics:read",
        }
    ),
    # Guests try things out: read templates, build and dry-run workflows (runs of theirs are never
    # live: accounts.guests), a few small files; no credentials, no keys.
    GUEST: frozenset(
        {
            "template:read",
            "workflow:read",
            "workflow:create",
            "workflow:update",
            "workflow:execute",
            "execution:read",
            "execution:approve",
            "log:read",
            "file:read",
            "file:write",
        }
    ),
}

DEFAULT_ROLE = EDITOR

# The staff console (the Django admin): a group of Django model permissions, not an API role.
# Its members (``is_staff`` too) see every object the console shows and operate runs (cancel,
# retry, rerun: ``executions.change_execution``) and workflows (activate, deactivate, edit their
# name and tags: ``workflows.change_workflow``); they cannot add or change users, keys, credentials
# or templates, which is what a superuser is for. ``manage.py grant_console <email>`` gives it;
# the demo user of ``make run`` has it. The group is kept in step with this list after every migrate.
CONSOLE_ROLE = "console"
CONSOLE_PERMISSIONS: frozenset[str] = frozenset(
    {
        *(
            f"{app}.view_{model}"
            for app, model in [
                ("accounts", "user"),
                ("accounts", "apikey"),
                ("analytics", "apiusagedaily"),
                ("audit", "auditevent"),
                ("executions", "execution"),
                ("executions", "steprun"),
                ("executions", "executionlog"),
                ("files", "storedfile"),
                ("integrations", "credential"),
                ("integrations", "integration"),
                ("integrations", "aiusage"),
                ("templates_app", "template"),
                ("webhooks", "webhooksubscription"),
                ("webhooks", "webhookdelivery"),
                ("webhooks", "webhooksigningsecret"),
                ("workflows", "workflow"),
                ("workflows", "workflowversion"),
                ("workflows", "workflowshare"),
                ("workflows", "tag"),
            ]
        ),
        "executions.change_execution",
        "workflows.change_workflow",
    }
)
