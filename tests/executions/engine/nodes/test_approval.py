"""``approval``: waits for a decision; ``approved``/``rejected`` ports; only named approvers decide."""

from __future__ import annotations

import pytest

from executions.services import approval_decide
from flowbuilder.api.errors import Forbidden, NotFound

pytestmark = pytest.mark.django_db


def test_a_decision_resumes_the_step_on_its_port(run_node, inline_engine, user):
    execution, step = run_node("approval", {"message": "Ship {{ input.v }}?"}, input_data={"v": "1.2"})
    assert (execution.status, step.status) == ("waiting", "waiting")
    decided = inline_engine.drive(
        lambda: approval_decide(execution=execution, node_id="n", actor=user, approved=False, comment="not yet")
    )
    step.refresh_from_db()
    assert (decided.status, step.ports) == ("completed", ["rejected"])
    assert step.output == {"approved": False, "by": user.email, "comment": "not yet"}


def test_someone_not_named_cannot_decide(run_node, inline_engine, make_user):
    approver = make_user()
    execution, _ = run_node("approval", {"message": "ok?", "approvers": [approver.email]})
    with pytest.raises((Forbidden, NotFound)):
        approval_decide(execution=execution, node_id="n", actor=make_user(), approved=True)
    decided = inline_engine.drive(
        lambda: approval_decide(execution=execution, node_id="n", actor=approver, approved=True)
    )
    assert decided.status == "completed"
