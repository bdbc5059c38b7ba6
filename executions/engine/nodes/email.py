"""``email``: send an e-mail through an SMTP credential or the server's mail settings.

Plain text, with an HTML alternative when ``html`` is set. With an ``smtp``
credential the connection goes through the SSRF guard
(:mod:`integrations.mail`); without one, through the server's ``EMAIL_URL``.
A dry run sends nothing and outputs what would have been sent.
"""

from __future__ import annotations

import smtplib
from email.utils import make_msgid, parseaddr
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.core.validators import validate_email

from executions.engine.nodes._schema import CREDENTIAL_REF, TEXT, config_schema, prop, results
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType
from integrations import mail
from integrations.net import BlockedAddress

_RECIPIENTS = {"anyOf": [TEXT, {"type": "array", "minItems": 1, "items": TEXT}]}
SMTP_TIMEOUT = 30


def _addresses(ctx: NodeContext, key: str) -> list[str]:
    value = ctx.config.get(key)
    if value is None or value == "":
        return []
    items = [value] if isinstance(value, str) else list(value)
    # "a@x.org, b@y.org" in one string is a common way to write several.
    addresses = [part.strip() for item in items for part in str(item).split(",") if part.strip()]
    for address in addresses:
        try:
            validate_email(parseaddr(address)[1])
        except ValidationError:
            raise NodeError(f"config.{key}: '{address}' is not an e-mail address", retryable=False) from None
    return addresses


def execute(ctx: NodeContext) -> NodeResult:
    config = ctx.config
    to, cc, bcc = _addresses(ctx, "to"), _addresses(ctx, "cc"), _addresses(ctx, "bcc")
    if not to:
        raise NodeError("config.to: no recipient", retryable=False)
    reply_to = _addresses(ctx, "reply_to")
    sender = (ctx.credential or {}).get("from_email") or settings.DEFAULT_FROM_EMAIL
    message_id = make_msgid(domain=(parseaddr(sender)[1].rpartition("@")[2] or "flowbuilder.local"))
    if ctx.dry_run:
        would_send: dict[str, Any] = {
            "from": sender,
            "to": to,
            "cc": cc,
            "bcc": bcc,
            "reply_to": reply_to,
            "subject": config["subject"],
            "body": config["body"],
            "html": config.get("html"),
            "via": "smtp credential" if ctx.credential else "server mail settings",
        }
        return NodeResult(output={"simulated": True, "would_send": would_send})
    timeout = min(SMTP_TIMEOUT, float(ctx.timeout)) if ctx.timeout else SMTP_TIMEOUT
    message = EmailMultiAlternatives(
        subject=config["subject"],
        body=config["body"],
        from_email=sender,
        to=to,
        cc=cc,
        bcc=bcc,
        reply_to=reply_to,
        headers={"Message-ID": message_id},
        connection=mail.connection_for(ctx.credential, timeout=timeout),
    )
    if config.get("html"):
        message.attach_alternative(config["html"], "text/html")
    try:
        message.send(fail_silently=False)
    except BlockedAddress as exc:
        raise NodeError(exc.message, retryable=False) from None
    except smtplib.SMTPAuthenticationError as exc:
        raise NodeError(
            f"The SMTP server rejected the username or password ({exc.smtp_code})", retryable=False
        ) from None
    except smtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(sorted(exc.recipients))
        raise NodeError(f"The SMTP server refused the recipient(s) {refused}", retryable=False) from None
    except smtplib.SMTPSenderRefused as exc:
        raise NodeError(f"The SMTP server refused the sender {exc.sender} ({exc.smtp_code})", retryable=False) from None
    except (smtplib.SMTPException, OSError) as exc:  # disconnects, timeouts, refused connections: worth a retry
        raise NodeError(f"Sending the e-mail failed: {exc}") from None
    return NodeResult(output={"message_id": message_id})


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
        execute=execute,
    )
)
