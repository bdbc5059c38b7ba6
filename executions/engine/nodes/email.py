"""``email``: send an e-mail through an SMTP credential or the server's mail settings."""

from __future__ import annotations

from executions.engine.nodes._schema import CREDENTIAL_REF, TEXT, config_schema, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

_RECIPIENTS = {"anyOf": [TEXT, {"type": "array", "minItems": 1, "items": TEXT}]}

NODE_TYPE = register(
    NodeType(
        type="email",
        label="Send Email",
        description="Sends an e-mail (plain text, optionally with an HTML version) and outputs its message id.",
        category=NodeCategory.INTEGRATION,
        config_schema=config_schema(
            {
                "to": prop("To", "One address or a list of addresses.", _RECIPIENTS, examples=["{{ input.email }}"]),
                "cc": prop("Cc", "One address or a list of addresses.", _RECIPIENTS),
                "bcc": prop("Bcc", "One address or a list of addresses.", _RECIPIENTS),
                "reply_to": prop("Reply-To", "The address replies go to.", TEXT),
                "subject": prop("Subject", "The subject line.", TEXT),
                "body": prop("Body", "The plain-text body.", {"type": "string"}),
                "html": prop(
                    "HTML body", "An HTML version of the body, shown by mail clients that can.", {"type": "string"}
                ),
                "credential": prop(
                    "SMTP credential",
                    "The SMTP server to send through; the server's mail settings if unset.",
                    CREDENTIAL_REF,
                ),
            },
            required=("to", "subject", "body"),
        ),
        credential_types=("smtp",),
        side_effects=True,
        output_schema=results(message_id={"type": "string"}),
    )
)
