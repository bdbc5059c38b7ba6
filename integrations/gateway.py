"""The AI gateway (``/ai/chat``, ``/ai/image/generate``, ``/ai/image/analyze``): provider choice, calls, usage.

The provider is the caller's ``openai_compatible`` credential named by
``credential_id``; else the caller's most recently created one; else the
server's default (``FLOWBUILDER_AI_BASE_URL``); else 503 SERVICE_UNAVAILABLE.
Provider failures become the API's errors: the provider refusing the request
or the credential is a 400 naming the field, anything on its side a 503.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any

from accounts.models import User
from audit.services import audit_credential_use
from flowbuilder.api.errors import ApplicationError, NotFound, ValidationFailed
from integrations import ai, services
from integrations.errors import AIProviderUnavailable, CredentialUnreadable, NoAIProvider
from integrations.models import AIUsage, Credential
from integrations.selectors import credential_get

NO_PROVIDER = (
    "No AI provider is configured. Store an openai_compatible credential (POST /api/v1/credentials) and pass "
    "its id as credential_id, or have the operator set FLOWBUILDER_AI_BASE_URL."
)


def provider_for(user: User, credential_id: Any = None) -> ai.Provider:
    if credential_id:
        try:
            credential = credential_get(user=user, credential_id=credential_id)
        except NotFound:
            raise ValidationFailed("Credential not found", field="credential_id") from None
        if credential.type != Credential.Type.OPENAI_COMPATIBLE:
            raise ValidationFailed(
                f"Expected a credential of type openai_compatible, got {credential.type}", field="credential_id"
            )
    else:
        credential = (
            Credential.objects.filter(owner=user, type=Credential.Type.OPENAI_COMPATIBLE)
            .order_by("-created_at")
            .first()
        )
    if credential is not None:
        try:
            data = services.credential_data(credential)
        except Exception as exc:  # DecryptionFailed: the operator removed the key it was stored under
            raise CredentialUnreadable(f"The credential '{credential.name}' cannot be read: {exc}") from None
        services.credential_touch(credential_id=credential.pk)
        audit_credential_use(credential=credential, purpose="ai_gateway")
        return ai.Provider.from_credential(data, credential.pk)
    default = ai.Provider.server_default()
    if default is None:
        raise NoAIProvider(NO_PROVIDER)
    return default


def _seconds(retry_after: str | None) -> int | None:
    """An upstream ``Retry-After`` (seconds or an HTTP date) in whole seconds from now."""
    if not retry_after:
        return None
    if retry_after.strip().isdigit():
        return int(retry_after.strip())
    try:
        when = parsedate_to_datetime(retry_after)
    except (TypeError, ValueError):
        return None
    return max(0, math.ceil((when - datetime.now(UTC)).total_seconds()))


def _api_error(exc: ai.ProviderError, provider: ai.Provider) -> ApplicationError:
    if exc.kind == "refused":
        return ValidationFailed(exc.message, field="credential_id")
    if exc.kind == "auth":
        if provider.trusted:
            return AIProviderUnavailable(f"The server's AI provider rejected its API key: {exc.message}")
        return ValidationFailed(exc.message, field="credential_id")
    if exc.kind == "bad_request":
        return ValidationFailed(f"The AI provider refused the request: {exc.message}")
    retry_after = _seconds(exc.retry_after)
    return AIProviderUnavailable(f"The AI provider is unavailable: {exc.message}", retry_after=retry_after)


def _call(provider: ai.Provider, function: Any, body: dict[str, Any]) -> dict[str, Any]:
    try:
        return function(provider, body)
    except ai.ProviderError as exc:
        raise _api_error(exc, provider) from None


def _call_and_record(
    user: User, provider: ai.Provider, function: Any, body: dict[str, Any], *, kind: str, images: bool = False
) -> dict[str, Any]:
    """Call the provider, record the tokens and cost for ``user``, answer the result with its cost."""
    result = _call(provider, function, body)
    cost = ai.usage_record(
        user_id=user.pk,
        provider=provider,
        model=result["model"],
        usage=result["usage"],
        kind=kind,
        source=AIUsage.Source.GATEWAY,
        images=len(result["images"]) if images else 0,
    )
    return {**result, "cost": float(cost), "provider": provider.host}


def ai_chat(
    *,
    user: User,
    messages: list[dict[str, Any]],
    model: str | None = None,
    credential_id: Any = None,
    temperature: float | None = None,
    max_tokens: int | None = None,
    response_format: dict[str, Any] | None = None,
) -> dict[str, Any]:
    provider = provider_for(user, credential_id)
    body: dict[str, Any] = {"model": provider.model(model), "messages": messages}
    if temperature is not None:
        body["temperature"] = temperature
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    if response_format is not None:
        body["response_format"] = response_format
    return _call_and_record(user, provider, ai.chat, body, kind=AIUsage.Kind.CHAT)


def ai_image_generate(
    *,
    user: User,
    prompt: str,
    size: str | None = None,
    model: str | None = None,
    n: int = 1,
    quality: str | None = None,
    credential_id: Any = None,
) -> dict[str, Any]:
    from django.conf import settings

    provider = provider_for(user, credential_id)
    body: dict[str, Any] = {"model": model or settings.FLOWBUILDER_AI_IMAGE_MODEL, "prompt": prompt, "n": n}
    if size:
        body["size"] = size
    if quality:
        body["quality"] = quality
    return _call_and_record(user, provider, ai.generate_images, body, kind=AIUsage.Kind.IMAGE_GENERATE, images=True)


def ai_image_analyze(
    *,
    user: User,
    prompt: str,
    image_url: str | None = None,
    image_base64: str | None = None,
    mime_type: str = "image/png",
    detail: str | None = None,
    model: str | None = None,
    max_tokens: int | None = None,
    credential_id: Any = None,
) -> dict[str, Any]:
    """A chat with one image content part (a URL the provider fetches, or inline base64 data)."""
    provider = provider_for(user, credential_id)
    url = image_url or f"data:{mime_type};base64,{image_base64}"
    image: dict[str, Any] = {"url": url}
    if detail:
        image["detail"] = detail
    body: dict[str, Any] = {
        "model": provider.model(model),
        "messages": [
            {"role": "user", "content": [{"type": "text", "text": prompt}, {"type": "image_url", "image_url": image}]}
        ],
    }
    if max_tokens is not None:
        body["max_tokens"] = max_tokens
    return _call_and_record(user, provider, ai.chat, body, kind=AIUsage.Kind.IMAGE_ANALYZE)
