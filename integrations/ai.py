"""OpenAI-compatible providers (OpenAI, Azure OpenAI v1, Ollama, vLLM…): calls, prices, usage.

A :class:`Provider` is a base URL and a key: from a user's ``openai_compatible``
credential, or the server's default (``FLOWBUILDER_AI_BASE_URL``). Calls go
through the SSRF-guarded client; the operator's own default provider is
trusted (its host is allow-listed for its calls), a user's is not.

Errors come out as :class:`ProviderError` with a ``kind`` the callers map:
the ``llm`` node to retryable or not, the AI gateway to 400 or 503.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from django.conf import settings

from integrations import http
from integrations.net import BlockedAddress

# USD per 1M tokens (prompt, completion) or per image; model names match by longest prefix.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "gpt-4o-mini": {"prompt": 0.15, "completion": 0.60},
    "gpt-4o": {"prompt": 2.50, "completion": 10.00},
    "gpt-4.1-nano": {"prompt": 0.10, "completion": 0.40},
    "gpt-4.1-mini": {"prompt": 0.40, "completion": 1.60},
    "gpt-4.1": {"prompt": 2.00, "completion": 8.00},
    "gpt-3.5-turbo": {"prompt": 0.50, "completion": 1.50},
    "o3-mini": {"prompt": 1.10, "completion": 4.40},
    "o4-mini": {"prompt": 1.10, "completion": 4.40},
    "dall-e-3": {"image": 0.040},
    "dall-e-2": {"image": 0.020},
    "gpt-image-1": {"prompt": 5.00, "completion": 40.00},
}
MILLION = Decimal(1_000_000)


class ProviderError(Exception):
    """A provider call that failed. ``kind``: ``refused`` (SSRF guard), ``auth`` (401/403),
    ``bad_request`` (other 4xx), ``rate_limited`` (429), ``unavailable`` (5xx, network, timeout, nonsense)."""

    def __init__(self, kind: str, message: str, *, status: int | None = None, retry_after: str | None = None) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.status = status
        self.retry_after = retry_after

    @property
    def retryable(self) -> bool:
        return self.kind in ("rate_limited", "unavailable")


@dataclass(frozen=True)
class Provider:
    base_url: str
    api_key: str = ""
    default_model: str = ""
    organization: str = ""
    trusted: bool = False  # the operator's default: its host is allow-listed for its calls
    credential_id: str | None = None

    @classmethod
    def from_credential(cls, data: dict[str, Any], credential_id: Any = None) -> Provider:
        return cls(
            base_url=str(data["base_url"]).rstrip("/"),
            api_key=data.get("api_key") or "",
            default_model=data.get("default_model") or "",
            organization=data.get("organization") or "",
            credential_id=str(credential_id) if credential_id else None,
        )

    @classmethod
    def server_default(cls) -> Provider | None:
        if not settings.FLOWBUILDER_AI_BASE_URL:
            return None
        return cls(
            base_url=settings.FLOWBUILDER_AI_BASE_URL.rstrip("/"),
            api_key=settings.FLOWBUILDER_AI_API_KEY,
            default_model=settings.FLOWBUILDER_AI_DEFAULT_MODEL,
            trusted=True,
        )

    @property
    def host(self) -> str:
        return urlsplit(self.base_url).hostname or self.base_url

    def model(self, requested: str | None = None) -> str:
        return requested or self.default_model or settings.FLOWBUILDER_AI_DEFAULT_MODEL

    def headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        if self.organization:
            headers["OpenAI-Organization"] = self.organization
        return headers


def request(
    provider: Provider,
    method: str,
    path: str,
    *,
    body: Any = None,
    timeout: float | None = None,
    max_bytes: int | None = None,
) -> dict[str, Any]:
    """Call ``{base_url}{path}`` and answer the JSON object; raises ProviderError."""
    url = provider.base_url + path
    timeout = timeout or settings.FLOWBUILDER_AI_TIMEOUT_SECONDS
    try:
        response = http.send(
            method,
            url,
            json=body,
            headers=provider.headers(),
            timeout=timeout,
            follow_redirects=False,
            max_bytes=max_bytes or settings.FLOWBUILDER_HTTP_MAX_RESPONSE_BYTES,
            allow=(provider.host,) if provider.trusted else (),
        )
    except BlockedAddress as exc:
        raise ProviderError("refused", exc.message) from None
    except httpx.TimeoutException:
        raise ProviderError("unavailable", f"{provider.host} did not answer within {timeout:g}s") from None
    except (httpx.TransportError, OSError) as exc:
        raise ProviderError("unavailable", f"Could not reach {provider.host}: {exc}") from None
    except http.ResponseTooLarge as exc:
        raise ProviderError("unavailable", f"{provider.host}: {exc}") from None
    try:
        payload = json.loads(response.content) if response.content else {}
    except ValueError:
        payload = None
    if response.status >= 400:
        raise _error_for(provider, response, payload)
    if not isinstance(payload, dict):
        raise ProviderError("unavailable", f"{provider.host} answered {path} with something other than a JSON object")
    return payload


def _error_for(provider: Provider, response: http.Response, payload: Any) -> ProviderError:
    detail = ""
    if isinstance(payload, dict):
        error = payload.get("error")
        if isinstance(error, dict):
            detail = str(error.get("message") or "")
        elif isinstance(error, str):
            detail = error
        detail = detail or str(payload.get("message") or payload.get("detail") or "")
    detail = detail[:500] or response.text()[:200]
    status = response.status
    where = f"{provider.host} answered HTTP {status}"
    if status in (401, 403):
        return ProviderError("auth", f"{where}: the API key was rejected ({detail})", status=status)
    if status == 429:
        return ProviderError(
            "rate_limited",
            f"{where}: rate limited ({detail})",
            status=status,
            retry_after=response.headers.get("retry-after"),
        )
    if 400 <= status < 500:
        return ProviderError("bad_request", f"{where}: {detail}", status=status)
    return ProviderError("unavailable", f"{where}: {detail}", status=status)


# --- calls ----------------------------------------------------------------------------------------


def chat(provider: Provider, body: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
    """POST /chat/completions; answers ``{text, message, model, usage, finish_reason, raw}``."""
    raw = request(provider, "POST", "/chat/completions", body=body, timeout=timeout)
    choices = raw.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise ProviderError("unavailable", f"{provider.host} answered without choices")
    message = choices[0].get("message") or {}
    content = message.get("content")
    if isinstance(content, list):  # some servers answer content parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    return {
        "text": content if isinstance(content, str) else "",
        "message": {"role": message.get("role", "assistant"), "content": content if isinstance(content, str) else ""},
        "model": raw.get("model") or body.get("model"),
        "usage": usage_of(raw),
        "finish_reason": choices[0].get("finish_reason"),
    }


def generate_images(provider: Provider, body: dict[str, Any], *, timeout: float | None = None) -> dict[str, Any]:
    """POST /images/generations; answers ``{images: [{url?, b64_json?, revised_prompt?}], model, usage}``."""
    # Generated images come back base64-encoded: allow far more than an API's JSON.
    raw = request(provider, "POST", "/images/generations", body=body, timeout=timeout, max_bytes=64 * 1024 * 1024)
    items = raw.get("data")
    if not isinstance(items, list):
        raise ProviderError("unavailable", f"{provider.host} answered without images")
    images = [
        {k: item[k] for k in ("url", "b64_json", "revised_prompt") if item.get(k)}
        for item in items
        if isinstance(item, dict)
    ]
    return {"images": images, "model": raw.get("model") or body.get("model"), "usage": usage_of(raw)}


def list_models(provider: Provider, *, timeout: float = 15) -> list[str]:
    raw = request(provider, "GET", "/models", timeout=timeout)
    data = raw.get("data")
    if not isinstance(data, list):
        raise ProviderError("unavailable", f"{provider.host} answered /models without a model list")
    return [str(m.get("id")) for m in data if isinstance(m, dict) and m.get("id")]


def usage_of(raw: dict[str, Any]) -> dict[str, int]:
    usage = raw.get("usage") if isinstance(raw.get("usage"), dict) else {}
    prompt = _int(usage.get("prompt_tokens", usage.get("input_tokens")))
    completion = _int(usage.get("completion_tokens", usage.get("output_tokens")))
    total = _int(usage.get("total_tokens")) or prompt + completion
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": total}


def _int(value: Any) -> int:
    try:
        return max(0, int(value or 0))
    except (TypeError, ValueError):
        return 0


# --- prices and usage ----------------------------------------------------------------------


def price_table() -> dict[str, dict[str, float]]:
    return {**DEFAULT_PRICES, **(settings.FLOWBUILDER_AI_PRICES or {})}


def cost_of(model: str | None, usage: dict[str, int], *, images: int = 0) -> Decimal:
    """The cost in USD by the price table (longest matching model prefix); 0 for unknown models."""
    table = price_table()
    name = (model or "").lower()
    matches = [key for key in table if name.startswith(key.lower())]
    if not matches:
        return Decimal(0)
    price = table[max(matches, key=len)]
    cost = (
        Decimal(str(price.get("prompt", 0))) * usage.get("prompt_tokens", 0)
        + Decimal(str(price.get("completion", 0))) * usage.get("completion_tokens", 0)
    ) / MILLION + Decimal(str(price.get("image", 0))) * images
    return cost.quantize(Decimal("0.0000000001"))


def usage_record(
    *,
    user_id: Any,
    provider: Provider,
    model: str | None,
    usage: dict[str, int],
    kind: str,
    source: str,
    images: int = 0,
    execution_id: Any = None,
) -> Decimal:
    """Store one call's tokens and cost for the user; answers the cost."""
    from integrations.models import AIUsage

    cost = cost_of(model, usage, images=images)
    AIUsage.objects.create(
        user_id=user_id,
        provider=provider.host[:255],
        base_url=provider.base_url[:2048],
        model=(model or "")[:200],
        kind=kind,
        source=source,
        credential_id=provider.credential_id,
        execution_id=execution_id,
        prompt_tokens=usage.get("prompt_tokens", 0),
        completion_tokens=usage.get("completion_tokens", 0),
        total_tokens=usage.get("total_tokens", 0),
        images=images,
        cost=cost,
    )
    return cost
