"""Customers: onboarding."""

from __future__ import annotations

from templates_app.gallery._build import definition, edge, node, param
from templates_app.services import BuiltinTemplate

_MAIL_RETRY = {"max_attempts": 3, "backoff_seconds": 60}

ONBOARDING_DRIP = BuiltinTemplate(
    key="customer-onboarding-drip",
    name="Customer onboarding drip",
    category="customer_success",
    description=(
        "Your sign-up flow posts each new customer {email, first_name} to the webhook: they get a welcome "
        "e-mail at once, tips a few days later, and a check-in after that. The waits hold no worker."
    ),
    parameters=(
        param("support_email", "email", "Replies go here; it is also named in the e-mails.", required=True),
        param("product_name", "string", "Your product.", default="Acme"),
        param("sender_name", "string", "The signature of the e-mails.", default="The Acme team"),
        param("docs_url", "url", "Where your documentation is.", default="https://example.com/docs"),
        param("tips_delay_days", "number", "Days from the welcome to the tips e-mail.", default=2),
        param("checkin_delay_days", "number", "Days from the tips to the check-in e-mail.", default=5),
    ),
    definition=definition(
        [
            node("signup", "trigger.webhook", "New customer", {"method": "POST", "respond": "immediately"}),
            node(
                "valid",
                "condition",
                "Has an e-mail address?",
                {"expression": "{{ input.body.email is defined and '@' in (input.body.email | string) }}"},
            ),
            node(
                "welcome",
                "email",
                "Welcome",
                {
                    "to": "{{ input.body.email }}",
                    "reply_to": "{{ support_email }}",
                    "subject": "Welcome to {{ product_name }}, {{ input.body.first_name | default('there') }}!",
                    "body": (
                        "Hi {{ input.body.first_name | default('there') }},\n\n"
                        "Welcome to {{ product_name }}! Everything you need to get started is in the documentation: "
                        "{{ docs_url }}\n\nQuestions? Just reply, or write to {{ support_email }}.\n\n{{ sender_name }}"
                    ),
                },
                retry=_MAIL_RETRY,
            ),
            node("wait_tips", "delay", "Wait for the tips", {"seconds": "{{ vars.tips_days * 86400 }}"}),
            node(
                "tips",
                "email",
                "Tips",
                {
                    "to": "{{ input.body.email }}",
                    "reply_to": "{{ support_email }}",
                    "subject": "Three tips to get the most out of {{ product_name }}",
                    "body": (
                        "Hi {{ input.body.first_name | default('there') }},\n\n"
                        "1. Start from a template: the gallery has the common cases.\n"
                        "2. Invite your team, so nobody waits for you.\n"
                        "3. Read the guides: {{ docs_url }}\n\n{{ sender_name }}"
                    ),
                },
                retry=_MAIL_RETRY,
            ),
            node("wait_checkin", "delay", "Wait for the check-in", {"seconds": "{{ vars.checkin_days * 86400 }}"}),
            node(
                "checkin",
                "email",
                "Check in",
                {
                    "to": "{{ input.body.email }}",
                    "reply_to": "{{ support_email }}",
                    "subject": "How is it going with {{ product_name }}?",
                    "body": (
                        "Hi {{ input.body.first_name | default('there') }},\n\n"
                        "You have been using {{ product_name }} for a week now. Is anything in your way? Reply to "
                        "this e-mail and a real person will answer.\n\n{{ sender_name }}"
                    ),
                },
                retry=_MAIL_RETRY,
            ),
            node("onboarded", "output", "Onboarded", {"value": {"onboarded": "{{ input.body.email }}"}}),
            node("skipped", "output", "Skipped", {"value": {"onboarded": None, "reason": "no e-mail address"}}),
        ],
        [
            edge("signup", "valid"),
            edge("valid", "welcome", "true"),
            edge("welcome", "wait_tips"),
            edge("wait_tips", "tips"),
            edge("tips", "wait_checkin"),
            edge("wait_checkin", "checkin"),
            edge("checkin", "onboarded"),
            edge("valid", "skipped", "false"),
        ],
        variables={"tips_days": "{{ tips_delay_days }}", "checkin_days": "{{ checkin_delay_days }}"},
    ),
)

TEMPLATES = (ONBOARDING_DRIP,)
