"""Drafting a workflow from a description: the AI provider when one is configured, else the built-in parser."""

from __future__ import annotations

import logging

from accounts.models import User
from flowbuilder.api.errors import ValidationFailed
from nlparse import providers
from nlparse.parser import MAX_TEXT_LENGTH, parse_text
from nlparse.result import ParseResult, ParseWarning

logger = logging.getLogger(__name__)


def text_parse(*, text: str, user: User) -> ParseResult:
    """A definition for ``text`` that passes ``validate_definition``.

    Uses the user's AI provider if there is one, falling back to the built-in
    parser (with a warning saying so) when the provider fails. Raises
    ValidationFailed for an empty or overlong text and Unprocessable (422)
    when nothing in it could be understood.
    """
    if not text.strip():
        raise ValidationFailed("Describe the workflow in a few words", field="text")
    if len(text) > MAX_TEXT_LENGTH:
        raise ValidationFailed(f"At most {MAX_TEXT_LENGTH} characters; this is {len(text)}", field="text")
    provider = providers.provider_for(user)
    if provider is not None:
        try:
            return providers.parse_with_provider(text, provider)
        except providers.ProviderError as exc:
            logger.warning("AI parse failed, using the built-in parser: %s", exc)
            result = parse_text(text)
            result.warnings.insert(
                0, ParseWarning(f"The AI provider failed ({exc}); this is the built-in parser's reading", field=None)
            )
            return result
    return parse_text(text)
