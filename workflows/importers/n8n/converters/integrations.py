"""Integrations: Send Email, Slack, Execute Workflow, Respond to Webhook, OpenAI."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from workflows.importers.n8n.base import Converted, Source, Unsupported, stringified
from workflows.importers.n8n.expressions import translate_text


def email(src: Source) -> Converted:
    if src.param("operation", default="send") != "send":
        raise Unsupported("waits for a reply by e-mail; use an approval node for a person's decision")
    to = _recipients(src, "toEmail", into="to")
    if not to:
        raise Unsupported("has no recipient")
    subject = src.template(src.param("subject", default=""), at="subject", into="subject") or "(no subject)"
    default_format = "html" if src.version >= 2.1 else ("text" if src.version >= 2 else "both")
    email_format = src.param("emailFormat", default=default_format)
    text, html = src.param("text", default=""), src.param("html", default="")
    config: dict[str, Any] = {"to": to, "subject": subject, "body": ""}
    if email_format in ("text", "both") and text:
        config["body"] = src.template(text, at="text", into="body")
    if email_format in ("html", "both") and html:
        config["html"] = src.template(html, at="html", into="html")
    options_path = ("options",) if src.version >= 2 else ()
    for name, key in (("ccEmail", "cc"), ("bccEmail", "bcc")):
        if recipients := _recipients(src, *options_path, name, into=key):
            config[key] = recipients
    if reply_to := src.param(*options_path, "replyTo"):
        config["reply_to"] = src.template(reply_to, at=".".join((*options_path, "replyTo")), into="reply_to")
    if src.param("fromEmail"):
        src.warn(
            f"sent from '{src.param('fromEmail')}'; the sender is the SMTP credential's or the server's", at="fromEmail"
        )
    if src.param(*options_path, "attachments"):
        src.warn("sent attachments, which are not imported", at="options.attachments")
    return Converted("email", config)


def _recipients(src: Source, *path: str, into: str) -> Any:
    value = src.param(*path, default="")
    if not isinstance(value, str) or not value.strip():
        return None
    if value.startswith("="):
        return src.template(value, at=".".join(path), into=into)
    addresses = [address.strip() for address in value.split(",") if address.strip()]
    translated = [translate_text(address, src.scope).value for address in addresses]
    return translated[0] if len(translated) == 1 else translated


def slack(src: Source) -> Converted:
    resource, operation = src.param("resource", default="message"), src.param("operation", default="post")
    if (resource, operation) != ("message", "post"):
        raise Unsupported(f"does '{resource}: {operation}'; only posting a message is supported")
    config: dict[str, Any] = {"credential": src.credential_placeholder()}
    if src.param("messageType") == "block" and isinstance(src.param("blocksUi"), str):
        blocks = src.json_parameter("blocksUi", into="blocks")
        if isinstance(blocks, dict) and isinstance(blocks.get("blocks"), list):
            config["blocks"] = blocks["blocks"]
        else:
            src.warn("its blocks could not be read; only the text is posted", at="blocksUi")
    text = src.template(src.param("text", default=""), at="text", into="text")
    if not text and "blocks" not in config:
        raise Unsupported("has no message text")
    config["text"] = text or "New message"
    channel = (
        src.param("channelId", "cachedResultName")
        or src.param("channelId", "value")
        or src.param("channel")
        or src.param("user", "cachedResultName")
        or "its channel"
    )
    src.warn(
        f"posted to {channel}; Flowbuilder posts through a Slack incoming webhook, which is bound to one channel: "
        "choose a slack_webhook credential for it",
    )
    return Converted("slack", config)


def execute_workflow(src: Source) -> Converted:
    if src.param("source", default="database") != "database":
        raise Unsupported(f"runs a workflow given as {src.param('source')}; only stored workflows can be called")
    workflow = src.param("workflowId", default="")
    workflow_id = workflow.get("value") if isinstance(workflow, Mapping) else workflow
    label = (workflow.get("cachedResultName") if isinstance(workflow, Mapping) else None) or str(workflow_id)
    config: dict[str, Any] = {"workflow_id": src.placeholder("workflow", label)}
    mapped = src.param("workflowInputs", "value")
    if isinstance(mapped, Mapping) and mapped:
        config["input"] = src.template(dict(mapped), at="workflowInputs.value", into="input")
    elif src.scope.current:
        config["input"] = "{{ " + src.scope.current + " }}"
    if src.param("options", "waitForSubWorkflow", default=True) is False:
        config["wait"] = False
    variable = config["workflow_id"].removeprefix("{{ vars.").removesuffix(" }}")
    src.warn(
        f"ran the n8n workflow '{label}' ({workflow_id}); import it too and put its Flowbuilder id in the "
        f"workflow variable '{variable}'",
        at="workflowId",
    )
    if src.param("mode", default="once") == "each":
        src.warn("ran the workflow once per item; it runs once here (use for_each to run it per item)", at="mode")
    return Converted("sub_workflow", config)


def respond_to_webhook(src: Source) -> Converted:
    respond_with = src.param("respondWith", default="firstIncomingItem")
    config: dict[str, Any] = {}
    status = src.param("options", "responseCode")
    if isinstance(status, int):
        config["status"] = status
    entries = src.param("options", "responseHeaders", "entries", default=[])
    headers = src.pairs(entries, "options.responseHeaders.entries", "headers")
    if respond_with in ("firstIncomingItem", "allIncomingItems"):
        if src.scope.current:
            config["body"] = "{{ " + src.scope.current + " }}"
    elif respond_with == "json":
        config["body"] = src.json_parameter("responseBody", into="body")
    elif respond_with == "text":
        config["body"] = src.template(src.param("responseBody", default=""), at="responseBody", into="body")
    elif respond_with == "redirect":
        config.setdefault("status", 307)
        headers["Location"] = src.template(src.param("redirectURL", default=""), at="redirectURL", into="headers")
    elif respond_with != "noData":
        raise Unsupported(f"responds with {respond_with}, which is not supported")
    if headers:
        config["headers"] = stringified(headers)
    return Converted("webhook_response", {key: value for key, value in config.items() if value is not None})


def openai(src: Source) -> Converted:
    """OpenAI (n8n-nodes-base, chat and text completions) and the LangChain OpenAI node (text: message a model)."""
    langchain = src.node.type.startswith("@n8n/")
    resource = src.param("resource", default="text")
    operation = src.param("operation", default="message" if langchain else "complete")
    messages: list[dict[str, str]] = []
    if langchain and resource == "text" and operation in ("message", "response"):
        messages = list(src.param("messages", "values", default=[]))
    elif not langchain and resource == "chat" and operation == "complete":
        messages = list(src.param("prompt", "messages", default=[]))
    elif not langchain and resource == "text" and operation == "complete":
        messages = [{"role": "user", "content": src.param("prompt", default="")}]
    else:
        raise Unsupported(f"does '{resource}: {operation}'; only asking a model for text is supported")
    config = _llm_config(src)
    translated = [
        {
            "role": str(item.get("role", "user")),
            "content": src.template(str(item.get("content", "")), at="messages", into="messages"),
        }
        for item in messages
        if isinstance(item, Mapping) and item.get("role", "user") in ("system", "user", "assistant")
    ]
    if len(translated) == 1 and translated[0]["role"] == "user" and translated[0]["content"]:
        config["prompt"] = translated[0]["content"]
    elif translated:
        config["messages"] = translated
    else:
        raise Unsupported("sends no message to the model")
    return Converted("llm", config)


def openai_chat_model(src: Source) -> Converted:
    """The LangChain chat-model sub-node: a model without a prompt (its chain gave it one)."""
    config = _llm_config(src)
    config["prompt"] = "{{ " + src.scope.current + " }}" if src.scope.current else "Write the prompt here"
    src.warn("got its prompt from the chain it was attached to; write the prompt in config.prompt")
    return Converted("llm", config)


def _llm_config(src: Source) -> dict[str, Any]:
    config: dict[str, Any] = {"credential": src.credential_placeholder()}
    model = src.param("modelId", default=src.param("model"))
    if isinstance(model, Mapping):
        model = model.get("value")
    if isinstance(model, str) and model:
        config["model"] = src.template(model, at="model", into="model")
    temperature = src.param("options", "temperature")
    if isinstance(temperature, int | float) and 0 <= temperature <= 2:
        config["temperature"] = temperature
    max_tokens = src.param("options", "maxTokens")
    if isinstance(max_tokens, int) and max_tokens >= 1:
        config["max_tokens"] = min(max_tokens, 32000)
    return config
