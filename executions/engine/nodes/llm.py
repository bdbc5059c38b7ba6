"""``llm``: ask a language model through an OpenAI-compatible credential.

Chat completions on any OpenAI-compatible endpoint (OpenAI, Azure, Ollama,
vLLM…), through the SSRF guard. With ``json_schema`` the model is asked for a
JSON answer of that schema (``response_format``) and the answer is checked
against it. Tokens and cost are recorded per user and provider
(:class:`integrations.models.AIUsage`). A dry run calls nothing.

``images`` sends uploaded images of the run's owner (what the seeds'
``ai_vision`` nodes need): each becomes an ``image_url`` content part with a
``data:`` URL (base64) on the last user message, read through
:mod:`executions.engine.files` (at most ``FLOWBUILDER_NODE_FILE_MAX_BYTES``
in all). A dry run checks them and names them without reading them.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator

from executions.engine import files as engine_files
from executions.engine.nodes._schema import (
    CREDENTIAL_REF,
    FILE_REF,
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
MAX_IMAGES = 10


NO_PROVIDER = (
    "No credential given, and this server has no default AI provider (FLOWBUILDER_AI_BASE_URL): "
    "name an openai_compatible credential"
)


def check(config: Mapping[str, Any]) -> list[Problem]:
    problems = exactly_one_of(config, "prompt", "messages") + json_schema_problems(
        config.get("json_schema"), "json_schema"
    )
    if not config.get("credential") and ai.Provider.server_default() is None:
        problems.append(("credential", NO_PROVIDER))
    return problems


def _messages(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if config.get("system"):
        messages.append({"role": "system", "content": config["system"]})
    if "messages" in config:
        messages.extend({"role": m["role"], "content": m["content"]} for m in config["messages"])
    else:
        messages.append({"role": "user", "content": config["prompt"]})
    return messages


def _image_refusal(info: engine_files.FileInfo) -> str | None:
    if info.category == "image" and info.content_type.startswith("image/"):
        return None
    return f"File '{info.name}' is {info.content_type}, not an image"


def _image_references(config: Mapping[str, Any]) -> list[tuple[str, Any]]:
    images = config.get("images") or []
    if not isinstance(images, list):
        raise NodeError("config.images: expected a list of file ids", retryable=False)
    return [(f"config.images[{index}]", reference) for index, reference in enumerate(images)]


def _with_images(messages: list[dict[str, Any]], parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``messages`` with ``parts`` added to the last user message (its text first), or a new user message."""
    for message in reversed(messages):
        if message["role"] == "user":
            message["content"] = [{"type": "text", "text": message["content"]}, *parts]
            return messages
    return [*messages, {"role": "user", "content": parts}]


def _image_part(info: engine_files.FileInfo, data: bytes) -> dict[str, Any]:
    url = f"data:{info.content_type};base64,{base64.b64encode(data).decode('ascii')}"
    return {"type": "image_url", "image_url": {"url": url}}


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
    if ctx.credential:
        provider = ai.Provider.from_credential(ctx.credential, config.get("credential"))
    else:  # no credential named: the server's own provider, as the AI gateway does
        default = ai.Provider.server_default()
        if default is None:
            raise NodeError(NO_PROVIDER, retryable=False)
        provider = default
    body: dict[str, Any] = {"model": provider.model(config.get("model")), "messages": _messages(config)}
    body["temperature"] = config.get("temperature", 0.7)  # the default the catalog shows
    if config.get("max_tokens") is not None:
        body["max_tokens"] = config["max_tokens"]
    schema = config.get("json_schema")
    if schema:
        body["response_format"] = {"type": "json_schema", "json_schema": {"name": "answer", "schema": schema}}
    references = _image_references(config)
    if ctx.dry_run:
        would_send = {"url": f"{provider.base_url}/chat/completions", **body}
        if references:  # checked as a real run would; named, not read
            described = engine_files.describe_files(ctx, references, accept=_image_refusal)
            would_send["images"] = [info.describe() for info in described]
        # The keys a real answer has, so what follows reads them as it will.
        answer = {
            "text": "(no answer: a dry run does not call the model)",
            "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
            "cost": 0.0,
            "model": body["model"],
            "finish_reason": "stop",
        }
        if schema:
            answer["json"] = {}
        return NodeResult(output={**answer, "simulated": True, "would_send": would_send})
    if references:
        images = engine_files.read_files(ctx, references, accept=_image_refusal)
        body["messages"] = _with_images(body["messages"], [_image_part(info, data) for info, data in images])
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
        description=(
            "Sends a prompt or a conversation, and images if given, to a language model (OpenAI-compatible API) "
            "and outputs its answer."
        ),
        category=NodeCategory.AI,
        config_schema=config_schema(
            {
                "credential": prop(
                    "Credential",
                    "The OpenAI-compatible provider to use; without one, the server's default (FLOWBUILDER_AI_BASE_URL).",
                    CREDENTIAL_REF,
                ),
                "model": prop("Model", "The model name; the credential's default model if unset.", TEXT),
                "prompt": prop("Prompt", "The user message. Set this or 'messages'.", TEXT),
                "messages": prop("Messages", "The conversation. Set this or 'prompt'.", dynamic(_MESSAGES)),
                "system": prop("System prompt", "Instructions sent before the conversation.", {"type": "string"}),
                "temperature": prop("Temperature", "Randomness, from 0 to 2.", dynamic(number(0, 2)), default=0.7),
                "max_tokens": prop("Max tokens", "The longest answer allowed, in tokens.", dynamic(integer(1, 32000))),
                "json_schema": prop("Answer schema", "A JSON Schema the answer must match.", {"type": "object"}),
                "images": prop(
                    "Images",
                    "Uploaded images the model sees with the last user message (a vision model): file ids or "
                    "templates such as {{ input.file.id }}; image files of the workflow's owner only, at most "
                    "FLOWBUILDER_NODE_FILE_MAX_BYTES (10 MB) in all.",
                    dynamic({"type": "array", "minItems": 1, "maxItems": MAX_IMAGES, "items": FILE_REF}),
                    examples=[["{{ input.file.id }}"]],
                ),
            },
        ),
        credential_types=("openai_compatible",),
        side_effects=True,
        output_schema=results(text={"type": "string"}, json={}, usage={"type": "object"}, cost={"type": "number"}),
        check=check,
        execute=execute,
    )
)
