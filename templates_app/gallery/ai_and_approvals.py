"""AI summaries and human approvals."""

from __future__ import annotations

from templates_app.gallery._build import definition, edge, node, param
from templates_app.services import BuiltinTemplate

LLM_SUMMARIZE_NOTIFY = BuiltinTemplate(
    key="llm-summarize-notify",
    name="Summarise with an LLM and notify",
    category="ai",
    description=(
        "Post a document {title, text} to the webhook: a language model summarises it and the summary is "
        "e-mailed. Works with any OpenAI-compatible provider (OpenAI, Azure, Ollama, vLLM…)."
    ),
    parameters=(
        param("llm_credential", "string", "Id of the OpenAI-compatible credential to use.", required=True),
        param("notify_email", "email", "Who gets the summaries.", required=True),
        param("model", "string", "The model name.", default="gpt-4o-mini"),
        param("max_sentences", "number", "Longest summary, in sentences.", default=3),
        param(
            "language",
            "enum",
            "Language of the summary.",
            default="English",
            choices=("English", "French", "German", "Spanish"),
        ),
        param("temperature", "number", "0 for the most literal summaries, up to 2.", default=0.2),
    ),
    definition=definition(
        [
            node("document", "trigger.webhook", "Document", {"method": "POST", "respond": "immediately"}),
            node(
                "has_text",
                "condition",
                "Any text?",
                {"expression": "{{ (input.body.text | default('') | string | trim | length) > 0 }}"},
            ),
            node(
                "summarize",
                "llm",
                "Summarise",
                {
                    "credential": "{{ llm_credential }}",
                    "model": "{{ model }}",
                    "system": "You summarise documents faithfully and concisely. You never add facts.",
                    "prompt": (
                        "Summarise the following text in at most {{ max_sentences }} sentences, in {{ language }}.\n\n"
                        "Title: {{ input.body.title | default('(untitled)') }}\n\n{{ input.body.text }}"
                    ),
                    "temperature": "{{ temperature }}",
                    "max_tokens": 600,
                },
                retry={"max_attempts": 3, "backoff_seconds": 10},
                timeout_seconds=120,
            ),
            node(
                "notify",
                "email",
                "E-mail the summary",
                {
                    "to": "{{ notify_email }}",
                    "subject": "Summary: {{ input.body.title | default('new document') }}",
                    # A dry run does not call the model: its step has no text.
                    "body": (
                        "{{ steps.summarize.output.text | default('(no summary: a dry run does not call the model)') }}"
                        "\n\n(Summarised by {{ model }}.)"
                    ),
                },
            ),
            node("empty", "transform", "Nothing to summarise", {"value": {"summarized": False, "reason": "no text"}}),
        ],
        [
            edge("document", "has_text"),
            edge("has_text", "summarize", "true"),
            edge("summarize", "notify"),
            edge("has_text", "empty", "false"),
        ],
    ),
)

_APPROVAL_TIMEOUT = "{{ [(vars.timeout_hours * 3600) | int, 60] | max }}"

APPROVAL_BEFORE_SENDING = BuiltinTemplate(
    key="approval-before-sending",
    name="Approval before sending an e-mail",
    category="approvals",
    description=(
        "Run it with a draft {to, subject, body}: an approver is asked to approve it, and only an "
        "approved draft is sent. A rejection, or no answer in time, sends nothing."
    ),
    parameters=(
        param("approver_email", "email", "Who approves the drafts.", required=True),
        param("approval_timeout_hours", "number", "Hours to wait for a decision.", default=24),
        param("cc_email", "email", "Copy every sent e-mail to this address (optional)."),
    ),
    definition=definition(
        [
            node(
                "draft",
                "trigger.manual",
                "Draft",
                {
                    "input_schema": {
                        "type": "object",
                        "required": ["to", "subject", "body"],
                        "properties": {
                            "to": {"type": "string", "minLength": 3},
                            "subject": {"type": "string", "minLength": 1},
                            "body": {"type": "string"},
                        },
                    }
                },
            ),
            node(
                "approve",
                "approval",
                "Approve the draft",
                {
                    "message": "Send the e-mail '{{ input.subject }}' to {{ input.to }}?\n\n{{ input.body }}",
                    "approvers": ["{{ approver_email }}"],
                    "timeout_seconds": _APPROVAL_TIMEOUT,
                },
            ),
            node(
                "send",
                "email",
                "Send",
                {
                    "to": "{{ input.to }}",
                    "cc": "{{ cc_email }}",
                    "subject": "{{ input.subject }}",
                    "body": "{{ input.body }}",
                },
                retry={"max_attempts": 3, "backoff_seconds": 30},
            ),
            node(
                "sent",
                "output",
                "Sent",
                {"value": {"sent": True, "approved_by": "{{ steps.approve.output.by }}"}},
            ),
            node(
                "not_sent",
                "output",
                "Not sent",
                {"value": {"sent": False, "reason": "{{ steps.approve.output.comment }}"}},
            ),
        ],
        [
            edge("draft", "approve"),
            edge("approve", "send", "approved"),
            edge("send", "sent"),
            edge("approve", "not_sent", "rejected"),
        ],
        variables={"timeout_hours": "{{ approval_timeout_hours }}"},
    ),
)


EXPENSE_APPROVAL = BuiltinTemplate(
    key="expense-approval",
    name="Expense approval",
    category="approvals",
    description=(
        "Run it with an expense {amount, description, requested_by}: small amounts are approved by policy, "
        "larger ones wait for an approver. The output is the decision; call it from other workflows as a "
        "sub-workflow."
    ),
    parameters=(
        param("approver_email", "email", "Who approves expenses over the limit.", required=True),
        param("auto_approve_limit", "number", "Amounts up to this are approved without asking.", default=100),
        param("currency", "enum", "Currency of the amounts.", default="EUR", choices=("EUR", "USD", "GBP", "CHF")),
        param("approval_timeout_hours", "number", "Hours to wait for a decision; no answer rejects.", default=48),
    ),
    definition=definition(
        [
            node(
                "request",
                "trigger.manual",
                "Expense",
                {
                    "input_schema": {
                        "type": "object",
                        "required": ["amount", "description", "requested_by"],
                        "properties": {
                            "amount": {"type": "number", "minimum": 0},
                            "description": {"type": "string", "minLength": 1},
                            "requested_by": {"type": "string", "minLength": 1},
                        },
                    }
                },
            ),
            node("small", "condition", "Within the limit?", {"expression": "{{ input.amount <= vars.limit }}"}),
            node(
                "by_policy",
                "transform",
                "Approved by policy",
                {
                    "value": {
                        "approved": True,
                        "by": "policy",
                        "comment": "Up to {{ auto_approve_limit }} {{ currency }} is approved automatically",
                    }
                },
            ),
            node(
                "review",
                "approval",
                "Ask the approver",
                {
                    "message": (
                        "Approve {{ input.amount }} {{ vars.currency }} for '{{ input.description }}', "
                        "requested by {{ input.requested_by }}?"
                    ),
                    "approvers": ["{{ approver_email }}"],
                    "timeout_seconds": _APPROVAL_TIMEOUT,
                },
            ),
            node(
                "approved",
                "transform",
                "Approved",
                {
                    "value": {
                        "approved": True,
                        "by": "{{ steps.review.output.by }}",
                        "comment": "{{ steps.review.output.comment }}",
                    }
                },
            ),
            node(
                "rejected",
                "transform",
                "Rejected",
                {
                    "value": {
                        "approved": False,
                        "by": "{{ steps.review.output.by }}",
                        "comment": "{{ steps.review.output.comment }}",
                    }
                },
            ),
            node("decision", "merge", "Decision", {"mode": "first"}),
            node(
                "result",
                "output",
                "Result",
                {
                    "value": {
                        "amount": "{{ input.amount }}",
                        "currency": "{{ vars.currency }}",
                        "decision": "{{ steps.decision.output.values() | first }}",
                    }
                },
            ),
        ],
        [
            edge("request", "small"),
            edge("small", "by_policy", "true"),
            edge("small", "review", "false"),
            edge("review", "approved", "approved"),
            edge("review", "rejected", "rejected"),
            edge("by_policy", "decision"),
            edge("approved", "decision"),
            edge("rejected", "decision"),
            edge("decision", "result"),
        ],
        variables={
            "limit": "{{ auto_approve_limit }}",
            "currency": "{{ currency }}",
            "timeout_hours": "{{ approval_timeout_hours }}",
        },
    ),
)

TEMPLATES = (LLM_SUMMARIZE_NOTIFY, APPROVAL_BEFORE_SENDING, EXPENSE_APPROVAL)
