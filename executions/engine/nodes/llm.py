"""``llm``: ask a language model through an OpenAI-compatible credential."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from executions.engine.nodes._schema import (
    CREDENTIAL_REF,
    TEXT,
    Problem,
    config_schema,
    dynamic,
    enum,
    exactly_one_of,
    integer,
    json_schema_problems,
    number,
    prop,
    results,
    strict_object,
)
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeType

_MESSAGE = strict_object(
    {
        "role": prop("Role", "Who says it.", enum("system", "user", "assistant")),
        "content": prop("Content", "The message text.", {"type": "string"}),
    },
    required=("role", "content"),
)
_MESSAGES = {"type": "array", "minItems": 1, "items": _MESSAGE}


def check(config: Mapping[str, Any]) -> list[Problem]:
    return exactly_one_of(config, "prompt", "messages") + json_schema_problems(config.get("json_schema"), "json_schema")


NODE_TYPE = register(
    NodeType(
        type="llm",
        label="LLM",
        description="Sends a prompt or a conversation to a language model (OpenAI-compatible API) and outputs its answer.",
        category=NodeCategory.AI,
        config_schema=config_schema(
            {
                "credential": prop("Credential", "The OpenAI-compatible provider to use.", CREDENTIAL_REF),
                "model": prop("Model", "The model name; the credential's default model if unset.", TEXT),
                "prompt": prop("Prompt", "The user message. Set this or 'messages'.", TEXT),
                "messages": prop("Messages", "The conversation. Set this or 'prompt'.", dynamic(_MESSAGES)),
                "system": prop("System prompt", "Instructions sent before the conversation.", {"type": "string"}),
                "temperature": prop("Temperature", "Randomness, from 0 to 2.", dynamic(number(0, 2)), default=0.7),
                "max_tokens": prop("Max tokens", "The longest answer allowed, in tokens.", dynamic(integer(1, 32000))),
                "json_schema": prop("Answer schema", "A JSON Schema the answer must match.", {"type": "object"}),
            },
            required=("credential",),
        ),
        credential_types=("openai_compatible",),
        credential_required=True,
        side_effects=True,
        output_schema=results(text={"type": "string"}, json={}, usage={"type": "object"}, cost={"type": "number"}),
        check=check,
    )
)
