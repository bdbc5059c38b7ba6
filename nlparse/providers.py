"""The AI path of ``POST /test/parse``: asking a language model for the definition.

This module holds everything of that path that does not depend on how a
provider is reached: the prompt (the node catalog's JSON Schemas), checking
the answer with ``validate_definition``, one repair round that feeds the
validation errors back, and the fall back to the built-in parser.

Not here yet: finding a provider. :func:`provider_for` answers None until
the integrations app exists; then it answers a :class:`Provider` wrapping the
user's ``openai_compatible`` credential (or the server's setting) and its
OpenAI-compatible client. Nothing else needs to change.
"""

from __future__ import annotations

import json
import logging
from typing import Any, Protocol

from executions.engine import registry
from executions.engine.validation import validate_definition
from nlparse.result import ParseResult, ParseWarning

logger = logging.getLogger(__name__)

SYSTEM_PROMPT = """You turn a description of an automation into a Flowbuilder workflow definition.
Answer with one JSON object and nothing else: {"definition": {...}, "confidence": <0..1>, "warnings": ["..."]}.
A definition is {"nodes": [{"id", "type", "name", "config"}], "edges": [{"id", "source", "target", "source_port"?}],
"variables": {}, "settings": {}}. Exactly one trigger node. Config strings may be Jinja templates over input,
steps.<id>.output and vars. Never invent credential ids: use "{{ vars.<name> }}", declare <name> in variables
with "" and add a warning saying to choose one. The node types and the JSON Schemas of their configs:
"""


class ProviderError(Exception):
    """The provider could not be reached, or answered something unusable."""


class Provider(Protocol):
    """A chat model behind an OpenAI-compatible API (the integrations app supplies it)."""

    name: str

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The assistant's answer to ``messages``; raises ProviderError when the call fails."""
        ...


def provider_for(user: Any) -> Provider | None:
    """The AI provider to parse with for ``user``, or None to use the built-in parser.

    The integrator replaces this body: the user's ``openai_compatible``
    credential (or the server's default one), wrapped in its client.
    """
    return None


def catalog_prompt() -> str:
    types = [
        {"type": t.type, "description": t.description, "outputs": list(t.outputs), "config_schema": t.config_schema}
        for t in registry.all_types()
    ]
    return SYSTEM_PROMPT + json.dumps(types, separators=(",", ":"))


def parse_with_provider(text: str, provider: Provider) -> ParseResult:
    """Ask ``provider`` for a definition of ``text``; validated, and repaired once if invalid.

    Raises ProviderError when the provider fails or its answer is still not a
    valid definition after the repair round; the caller falls back to the
    built-in parser.
    """
    messages = [{"role": "system", "content": catalog_prompt()}, {"role": "user", "content": text}]
    for attempt in (1, 2):
        answer = provider.complete(messages)
        parsed, problems = _check_answer(answer)
        if parsed is not None:
            return parsed
        if attempt == 1:
            messages += [
                {"role": "assistant", "content": answer},
                {
                    "role": "user",
                    "content": "That definition is invalid. Fix these problems and answer the whole JSON object again:\n"
                    + "\n".join(problems),
                },
            ]
    raise ProviderError(f"{provider.name} did not produce a valid definition: {'; '.join(problems[:3])}")


def _check_answer(answer: str) -> tuple[ParseResult | None, list[str]]:
    try:
        body = json.loads(_strip_fences(answer))
    except ValueError as exc:
        return None, [f"The answer is not JSON: {exc}"]
    if not isinstance(body, dict) or not isinstance(body.get("definition"), dict):
        return None, ["The answer must be an object with a 'definition' object"]
    report = validate_definition(body["definition"])
    if not report.valid:
        return None, [f"{e['field']}: {e['message']}" for e in report.errors]
    try:
        confidence = min(1.0, max(0.0, float(body.get("confidence", 0.5))))
    except (TypeError, ValueError):
        confidence = 0.5
    warnings = [ParseWarning(str(w)) for w in body.get("warnings") or [] if isinstance(w, (str, int, float))]
    warnings += [ParseWarning(w["message"], field=w["field"]) for w in report.warnings]
    return ParseResult(report.definition, round(confidence, 2), warnings, parser="provider"), []


def _strip_fences(answer: str) -> str:
    # Models like to wrap JSON in a ```json fence even when told not to.
    text = answer.strip()
    if text.startswith("```"):
        text = text.split("\n", 1)[1] if "\n" in text else ""
        text = text.rsplit("```", 1)[0]
    return text
