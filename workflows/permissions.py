"""Object-level access to workflows: the owner, or a user it is shared with at a role.

What a request may do with a workflow is the intersection of what the
caller's roles grant (narrowed by an API key's scopes) and what their
relation to the workflow allows.
"""

from __future__ import annotations

from accounts.models import User
from workflows.models import Workflow, WorkflowShare

# Any relation may decide an approval it is named in (approval_decide checks the names).
_VIEW = frozenset({"workflow:read", "execution:read", "execution:approve", "log:read"})
SHARE_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    WorkflowShare.Role.VIEWER: _VIEW,
    WorkflowShare.Role.OPERATOR: _VIEW | {"workflow:execute", "execution:cancel"},
    WorkflowShare.Role.EDITOR: _VIEW | {"workflow:execute", "execution:cancel", "workflow:update"},
}
OWNER_PERMISSIONS = frozenset(
    {
        "workflow:read",
        "workflow:update",
        "workflow:delete",
        "workflow:execute",
        "execution:read",
        "execution:cancel",
        "execution:approve",
        "log:read",
    }
)


def workflow_relation_permissions(user: User, workflow: Workflow, share_role: str | None = None) -> frozenset[str]:
    """What the user's relation to ``workflow`` allows (before their own role's limits)."""
    if workflow.owner_id == user.pk or user.is_superuser:
        return OWNER_PERMISSIONS
    if share_role is None:
        share = WorkflowShare.objects.filter(workflow=workflow, user=user).only("role").first()
        share_role = share.role if share else None
    return SHARE_ROLE_PERMISSIONS.get(share_role, frozenset()) if share_role else frozenset()


def workflow_permissions(
    user: User, workflow: Workflow, granted: frozenset[str], share_role: str | None = None
) -> frozenset[str]:
    return workflow_relation_permissions(user, workflow, share_role) & granted
