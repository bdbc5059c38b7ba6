"""The one access check for a workflow and its runs: visible to this user, and they hold a permission on it.

Every entry point (REST views, the SSE log stream, websocket authentication, file processing,
templates) asks here, so a new endpoint cannot forget half of the check. What a caller may do is
the intersection of what their roles grant (narrowed by an API key's scopes: ``granted``) and what
their relation to the workflow allows (owner, or the role it is shared with them at). A workflow
they cannot see is a 404, whatever its id looks like; one they see without the permission a 403.
"""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, QuerySet, Subquery

from accounts.models import User
from flowbuilder.api.errors import ApplicationError, Forbidden, NotFound
from flowbuilder.ids import parse_uuid
from workflows.models import Workflow, WorkflowShare
from workflows.permissions import OWNER_PERMISSIONS, workflow_permissions, workflow_relation_permissions
from workflows.selectors import workflow_execution_stats, workflow_list, workflow_trigger, workflows_visible_to


def require(permissions: frozenset[str], needed: str | None) -> None:
    """Raise Forbidden unless ``needed`` (when given) is among ``permissions``."""
    if needed and needed not in permissions:
        raise Forbidden(f"Your access to this workflow does not include {needed}")


def permissions_on(
    user: User, workflow: Workflow, granted: frozenset[str] | None, share_role: str | None
) -> frozenset[str]:
    """What ``user`` may do with ``workflow``: ``granted`` ∩ their relation (the relation alone without ``granted``)."""
    if granted is None:
        return workflow_relation_permissions(user, workflow, share_role)
    return workflow_permissions(user, workflow, granted, share_role)


def own_workflows_permissions(granted: frozenset[str]) -> frozenset[str]:
    """What a caller may do with the workflows they own (their notifications socket carries those runs)."""
    return OWNER_PERMISSIONS & granted


def workflow_for(
    user: User,
    workflow_id: Any,
    *,
    granted: frozenset[str] | None,
    needed: str | None = None,
    queryset: QuerySet[Workflow] | None = None,
    not_found: ApplicationError | None = None,
) -> Workflow:
    """The workflow ``workflow_id`` as ``user`` may see it, with ``.permissions`` and ``.share_role`` set.

    Raises NotFound (or ``not_found``) when it is not visible to them (a malformed id too) and
    Forbidden when it is but ``needed`` is not in their permissions on it. ``granted`` is what the
    request may do (``accounts.authentication.granted_permissions``); None checks the relation only
    (the engine asking for a run's owner). ``queryset`` narrows or annotates the visible workflows.
    """
    pk = parse_uuid(workflow_id)
    role = WorkflowShare.objects.filter(workflow=OuterRef("pk"), user=user).values("role")[:1]
    visible = queryset if queryset is not None else workflows_visible_to(user).select_related("owner")
    if "share_role" not in visible.query.annotations:
        visible = visible.annotate(share_role=Subquery(role))
    workflow = visible.filter(pk=pk).first() if pk else None
    if workflow is None:
        raise not_found or NotFound("Workflow not found")
    workflow.permissions = permissions_on(user, workflow, granted, workflow.share_role)
    require(workflow.permissions, needed)
    return workflow


def workflow_detail(user: User, workflow_id: Any, *, granted: frozenset[str] | None, base_url: str | None) -> Workflow:
    """A workflow's detail as ``user`` sees it: its list fields, ``.permissions``, ``.trigger_info``, ``.execution_stats``.

    The webhook URL in the trigger is shown only to those who may run the workflow.
    """
    workflow = workflow_for(user, workflow_id, granted=granted, queryset=workflow_list(user))
    show_url = "workflow:execute" in workflow.permissions
    workflow.trigger_info = workflow_trigger(workflow, base_url=base_url, show_url=show_url)
    workflow.execution_stats = workflow_execution_stats(workflow)
    return workflow
