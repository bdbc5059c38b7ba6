"""Sales: follow up new leads, score and route them."""

from __future__ import annotations

from templates_app.gallery._build import definition, edge, node, param
from templates_app.services import BuiltinTemplate

LEAD_FOLLOW_UP = BuiltinTemplate(
    key="lead-follow-up-email",
    name="Lead follow-up e-mail",
    category="sales",
    description=(
        "A web form posts each new lead to the workflow's webhook ({name, email, company, message}). "
        "Sales hears about it at once; the lead gets a personal follow-up e-mail after a short delay."
    ),
    parameters=(
        param(
            "sales_email",
            "email",
            "Who is told about each new lead; replies to the follow-up go there too.",
            required=True,
        ),
        param("company_name", "string", "Your company, as the lead knows it.", default="Acme Inc."),
        param("sender_name", "string", "The signature of the follow-up e-mail.", default="The Acme sales team"),
        param("subject", "string", "Subject of the follow-up e-mail.", default="Thanks for getting in touch"),
        param("follow_up_delay_minutes", "number", "Minutes between the lead's arrival and the follow-up.", default=30),
    ),
    definition=definition(
        [
            node("lead", "trigger.webhook", "New lead", {"method": "POST", "respond": "immediately"}),
            node(
                "notify_sales",
                "email",
                "Tell sales",
                {
                    "to": "{{ sales_email }}",
                    "subject": "New lead: {{ input.body.name | default('(no name)') }}",
                    "body": (
                        "A new lead came in through the {{ company_name }} web form:\n\n"
                        "Name: {{ input.body.name | default('-') }}\n"
                        "E-mail: {{ input.body.email | default('-') }}\n"
                        "Company: {{ input.body.company | default('-') }}\n\n"
                        "{{ input.body.message | default('') }}"
                    ),
                },
                retry={"max_attempts": 3, "backoff_seconds": 30},
            ),
            node(
                "has_email",
                "condition",
                "Has an e-mail address?",
                {"expression": "{{ input.body.email is defined and '@' in (input.body.email | string) }}"},
            ),
            node("wait", "delay", "Wait a little", {"seconds": "{{ vars.delay_minutes * 60 }}"}),
            node(
                "follow_up",
                "email",
                "Follow up",
                {
                    "to": "{{ input.body.email }}",
                    "reply_to": "{{ sales_email }}",
                    "subject": "{{ subject }}",
                    "body": (
                        "Hi {{ input.body.name | default('there') }},\n\n"
                        # No full stop right after the name: "Acme Inc." would end in two.
                        "Thank you for your interest in {{ company_name }}, and for your message. We would love "
                        "to learn more about what you need. When would suit you for a short call?\n\n"
                        "Best regards,\n{{ sender_name }}"
                    ),
                },
                retry={"max_attempts": 3, "backoff_seconds": 30},
            ),
            node(
                "no_email",
                "transform",
                "Nothing to follow up",
                {"value": {"followed_up": False, "reason": "no e-mail address"}},
            ),
        ],
        [
            edge("lead", "notify_sales"),
            edge("lead", "has_email"),
            edge("has_email", "wait", "true"),
            edge("wait", "follow_up"),
            edge("has_email", "no_email", "false"),
        ],
        variables={"delay_minutes": "{{ follow_up_delay_minutes }}"},
    ),
)


LEAD_SCORING = BuiltinTemplate(
    key="lead-scoring",
    name="Lead scoring and routing",
    category="sales",
    description=(
        "Call the webhook with a lead ({company_size, industry, budget, phone}) and get its score, tier "
        "(hot, warm, cold) and next step back in the response. The rules are plain expressions: adjust "
        "them in the score step."
    ),
    parameters=(
        param("hot_threshold", "number", "Score from which a lead is hot.", default=70),
        param("warm_threshold", "number", "Score from which a lead is warm.", default=40),
        param("enterprise_size", "number", "Employees from which a company counts as enterprise (+40).", default=200),
        param(
            "target_industries",
            "json",
            "Industries you sell to best, lower-case (+30).",
            default=["software", "finance", "healthcare"],
        ),
        param("hot_action", "string", "Next step for a hot lead.", default="Call within one business day"),
        param("warm_action", "string", "Next step for a warm lead.", default="Add to the nurture sequence"),
        param("cold_action", "string", "Next step for a cold lead.", default="Send the monthly newsletter"),
    ),
    definition=definition(
        [
            node("lead", "trigger.webhook", "Lead to score", {"method": "POST", "respond": "when_done"}),
            node(
                "score",
                "transform",
                "Score",
                {
                    "value": (
                        "{{ (40 if (input.body.company_size | default(0)) >= vars.enterprise_size else 10)"
                        " + (30 if (input.body.industry | default('') | lower) in vars.industries else 0)"
                        " + (20 if (input.body.budget | default(0)) >= 10000 else 0)"
                        " + (10 if input.body.phone is defined else 0) }}"
                    )
                },
            ),
            node(
                "tier",
                "transform",
                "Tier",
                {
                    "value": (
                        "{{ 'hot' if steps.score.output >= vars.hot else "
                        "('warm' if steps.score.output >= vars.warm else 'cold') }}"
                    )
                },
            ),
            node(
                "route",
                "switch",
                "Route by tier",
                {
                    "value": "{{ steps.tier.output }}",
                    "cases": [{"port": "hot", "equals": "hot"}, {"port": "warm", "equals": "warm"}],
                    "default_port": "cold",
                },
            ),
            node("hot", "transform", "Hot", {"value": {"next_step": "{{ hot_action }}", "owner": "sales"}}),
            node("warm", "transform", "Warm", {"value": {"next_step": "{{ warm_action }}", "owner": "marketing"}}),
            node("cold", "transform", "Cold", {"value": {"next_step": "{{ cold_action }}", "owner": "marketing"}}),
            node("decision", "merge", "Decision", {"mode": "first"}),
            node(
                "respond",
                "webhook_response",
                "Answer the caller",
                {
                    "status": 200,
                    "body": {
                        "score": "{{ steps.score.output }}",
                        "tier": "{{ steps.tier.output }}",
                        "route": "{{ steps.decision.output.values() | first }}",
                    },
                },
            ),
            node(
                "result",
                "output",
                "Result",
                {
                    "value": {
                        "score": "{{ steps.score.output }}",
                        "tier": "{{ steps.tier.output }}",
                        "route": "{{ steps.decision.output.values() | first }}",
                    }
                },
            ),
        ],
        [
            edge("lead", "score"),
            edge("score", "tier"),
            edge("tier", "route"),
            edge("route", "hot", "hot"),
            edge("route", "warm", "warm"),
            edge("route", "cold", "cold"),
            edge("hot", "decision"),
            edge("warm", "decision"),
            edge("cold", "decision"),
            edge("decision", "respond"),
            edge("respond", "result"),
        ],
        variables={
            "hot": "{{ hot_threshold }}",
            "warm": "{{ warm_threshold }}",
            "enterprise_size": "{{ enterprise_size }}",
            "industries": "{{ target_industries }}",
        },
    ),
)

TEMPLATES = (LEAD_FOLLOW_UP, LEAD_SCORING)
