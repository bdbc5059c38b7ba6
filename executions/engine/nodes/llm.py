"""``llm``: ask a language model through an OpenAI-compatible credential.

Chat completions on any OpenAI-compatible endpoint (OpenAI, Azure, Ollama,
vLLM…), through the SSRF guard. With ``json_schema`` the model is asked for a
JSON answer of that schema (``response_format``) and the answer is checked
against it. Tokens and cost are recorded per user and provider
(:class:`integrations.models.AIUsage`). A dry run calls nothing.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

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
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType
from integrations import ai

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


def _messages(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if config.get("system"):
        messages.append({"role": "system", "content": config["system"]})
    if "messages" in config:
        messages.extend({"role": m["role"], "content": m["content"]} for m in config["messages"])
    else:
        messages.append({"role": "user", "content": config["prompt"]})
    return messages


def _parse_answer(text: str, schema: dict[str, Any]) -> Any:
    cleaned = text.strip()
    if cleaned.startswith("```"):  # models fence JSON even when asked not to
        cleaned = cleaned.strip("`").removeprefix("json").strip()
    try:
        value = json.loads(cleaned)
    except ValueError:
        raise NodeError(
            "The model's answer is not JSON", data={"answer": text[:2000]}
        ) from None  # retryable: another sample may be
    error = next(iter(Draft202012Validator(schema).iter_errors(value)), None)
    if error is not None:
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path) or "the answer"
        raise NodeError(
            f"The model's answer does not match json_schema at {where.lstrip('.')}: {error.message[:300]}",
            data={"answer": value},
        )
    return value


def execute(ctx: NodeContext) -> NodeResult:
    config = ctx.config
    if not ctx.credential:
        raise NodeError("The node needs an openai_compatible credential", retryable=False)
    provider = ai.Provider.from_credential(ctx.credential, config.get("credential"))
    body: dict[str, Any] = {"model": provider.model(config.get("model")), "messages": _messages(config)}
    body["temperature"] = config.get("temperature", 0.7)  # the default the catalog shows
    if config.get("max_tokens") is not None:
        body["max_tokens"] = config["max_tokens"]
    schema = config.get("json_schema")
    if schema:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    if ctx.dry_run:
        return NodeResult(
            output={"simulated": True, "would_send": {"url": f"{provider.base_url}/chat/completions", **body}}
        )
    try:
        result = ai.chat(provider, body, timeout=float(ctx.timeout) if ctx.timeout else None)
    except ai.ProviderError as exc:
        raise NodeError(
            exc.message, retryable=exc.retryable, data={"status": exc.status} if exc.status else None
        ) from None
    cost = ai.usage_record(
        user_id=ctx.owner_id,
        provider=provider,
        model=result["model"],
        usage=result["usage"],
        kind="chat",
        source="node",
        execution_id=ctx.execution_id,
    )
    output: dict[str, Any] = {
        "text": result["text"],
        "usage": result["usage"],
        "cost": float(cost),
        "model": result["model"],
        "finish_reason": result["finish_reason"],
    }
    if schema:
        output["json"] = _parse_answer(result["text"], schema)
    return NodeResult(output=output)


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
        execute=execute,
    )
)
