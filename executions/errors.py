"""What running, cancelling, retrying and deciding runs can refuse, each with the reason a client branches on."""

from __future__ import annotations

from flowbuilder.api.errors import Conflict, Forbidden, RateLimited


class ConcurrencyLimitReached(RateLimited):
    """The workflow's ``max_concurrency`` is reached and its policy is ``reject``."""

    reason = "CONCURRENCY_LIMIT_REACHED"


class IdempotencyKeyReused(Conflict):
    reason = "IDEMPOTENCY_KEY_REUSED"


class ExecutionFinished(Conflict):
    """The run already ended: it cannot be cancelled."""

    reason = "EXECUTION_FINISHED"


class ExecutionNotRetryable(Conflict):
    reason = "EXECUTION_NOT_RETRYABLE"


class ApprovalNotWaiting(Conflict):
    reason = "APPROVAL_NOT_WAITING"


class NotAnApprover(Forbidden):
    reason = "NOT_AN_APPROVER"


class GuestLiveRun(Forbidden):
    """Guests try workflows as dry runs (``POST /test/execute/{id}``): no e-mail, HTTP, Slack or LLM call leaves."""

    reason = "GUEST_DRY_RUN_ONLY"
