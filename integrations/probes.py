"""``POST /credentials/{id}/test``: a real check of a credential against the service it is for.

| type | what is checked |
|---|---|
| ``smtp`` | connect (SSRF-guarded), EHLO, STARTTLS or implicit TLS if set, AUTH LOGIN/PLAIN with the username and password, NOOP |
| ``http_basic``, ``http_bearer``, ``api_key`` | a GET of the credential's ``test_url`` with the credential applied: ok on 2xx/3xx, a failure naming 401/403 |
| ``oauth2_token`` | with ``token_url`` and ``refresh_token``: a refresh-token grant at the token URL (the new tokens are stored); else a GET of ``test_url`` with the access token |
| ``openai_compatible`` | a GET of ``{base_url}/models`` with the API key; answers the models found |
| ``slack_webhook`` | nothing, unless asked with ``{"post": true}``: then a test message is posted |
| ``hmac_secret`` | nothing to connect to: it is checked when a signed request arrives |

Answers ``{ok, message, details}``; ``ok`` is None when nothing could be tested.
"""

from __future__ import annotations

import smtplib
from dataclasses import dataclass, field
from typing import Any

import httpx

from audit.services import audit_credential_use
from executions.engine.credentials import redact
from integrations import ai, credential_types, http, mail, services
from integrations.models import Credential
from integrations.net import BlockedAddress

TIMEOUT = 15


@dataclass
class ProbeResult:
    ok: bool | None
    message: str
    details: dict[str, Any] = field(default_factory=dict)


def credential_test(*, credential: Credential, post: bool = False) -> ProbeResult:
    """Run the type's check. Never raises for what the remote side does: a failure is ``ok=False``."""
    try:
        data = services.credential_data(credential)
    except Exception as exc:  # DecryptionFailed, and nothing else should leak either
        return ProbeResult(False, str(exc))
    audit_credential_use(credential=credential, purpose="test")
    probe = _PROBES[credential.type]
    try:
        result = probe(credential, data, post)
    except BlockedAddress as exc:
        result = ProbeResult(False, exc.message, {"refused": True})
    except httpx.TimeoutException:
        result = ProbeResult(False, f"No answer within {TIMEOUT}s")
    except (httpx.TransportError, OSError) as exc:
        result = ProbeResult(False, f"Could not connect: {exc}")
    except http.ResponseTooLarge as exc:
        result = ProbeResult(False, str(exc))
    if result.ok:
        services.credential_touch(credential_id=credential.pk)
    # Whatever a server or a library said may quote the secret back.
    secrets = credential_types.secrets_of(credential.type, data)
    return ProbeResult(result.ok, redact(result.message, secrets), redact(result.details, secrets))


def _http_get(credential_type: str, data: dict[str, Any]) -> ProbeResult:
    url = data.get("test_url")
    if not url:
        return ProbeResult(
            None,
            "Nothing to test against: add a test_url (an address that needs this credential) to test it",
            {"tested": False},
        )
    auth = http.auth_for(credential_type, data)
    response = http.send(
        "GET",
        url,
        headers=auth.headers,
        params=auth.params,
        timeout=TIMEOUT,
        max_bytes=1 << 20,
        secret_headers=auth.header_names,
    )
    details = {"status": response.status, "url": url}
    if response.status in (401, 403):
        return ProbeResult(False, f"{url} rejected the credential (HTTP {response.status})", details)
    if response.status >= 400:
        return ProbeResult(False, f"{url} answered HTTP {response.status}", details)
    return ProbeResult(True, f"GET {url} with the credential answered HTTP {response.status}", details)


def _probe_http(credential: Credential, data: dict[str, Any], post: bool) -> ProbeResult:
    return _http_get(credential.type, data)


def _probe_oauth2(credential: Credential, data: dict[str, Any], post: bool) -> ProbeResult:
    if data.get("token_url") and data.get("refresh_token"):
        try:
            fresh = services.credential_refresh(
                credential_id=credential.pk,
                owner_id=credential.owner_id,
                seen=data,
                refresher=lambda current: http.refresh_oauth2(current, timeout=TIMEOUT),
            )
        except ValueError as exc:
            return ProbeResult(False, str(exc), {"token_url": data["token_url"]})
        return ProbeResult(
            True,
            f"Refreshed the access token at {data['token_url']} (the new token is stored)",
            {"token_url": data["token_url"], "refresh_token_rotated": fresh["refresh_token"] != data["refresh_token"]},
        )
    return _http_get(credential.type, data)


def _probe_smtp(credential: Credential, data: dict[str, Any], post: bool) -> ProbeResult:
    details = {"host": data["host"], "port": data["port"]}
    try:
        message = mail.smtp_login_check(data, timeout=TIMEOUT)
    except smtplib.SMTPAuthenticationError as exc:
        return ProbeResult(False, f"The SMTP server rejected the username or password ({exc.smtp_code})", details)
    except smtplib.SMTPNotSupportedError as exc:
        return ProbeResult(False, f"The SMTP server does not support what the credential needs: {exc}", details)
    except smtplib.SMTPException as exc:
        return ProbeResult(False, f"SMTP error: {exc}", details)
    return ProbeResult(True, message, details)


def _probe_openai(credential: Credential, data: dict[str, Any], post: bool) -> ProbeResult:
    provider = ai.Provider.from_credential(data, credential.pk)
    try:
        models = ai.list_models(provider, timeout=TIMEOUT)
    except ai.ProviderError as exc:
        return ProbeResult(False, exc.message, {"base_url": provider.base_url, "status": exc.status})
    return ProbeResult(
        True,
        f"{provider.base_url}/models lists {len(models)} model(s)",
        {"base_url": provider.base_url, "models": models[:50], "count": len(models)},
    )


def _probe_slack(credential: Credential, data: dict[str, Any], post: bool) -> ProbeResult:
    if not post:
        return ProbeResult(
            None,
            'An incoming webhook cannot be checked without posting to its channel; send {"post": true} to post a test message',
            {"tested": False},
        )
    response = http.send(
        "POST", data["url"], json={"text": "Flowbuilder: test message"}, timeout=TIMEOUT, max_bytes=1 << 16
    )
    body = response.text()[:200]
    if response.status >= 400:
        return ProbeResult(False, f"Slack answered HTTP {response.status}: {body}", {"status": response.status})
    return ProbeResult(True, "Posted a test message to the channel", {"status": response.status})


def _probe_hmac(credential: Credential, data: dict[str, Any], post: bool) -> ProbeResult:
    return ProbeResult(
        None,
        "An HMAC secret has nothing to connect to; it is checked when a signed request arrives",
        {"tested": False, "length": len(data.get("secret", ""))},
    )


_PROBES = {
    "http_basic": _probe_http,
    "http_bearer": _probe_http,
    "api_key": _probe_http,
    "oauth2_token": _probe_oauth2,
    "smtp": _probe_smtp,
    "openai_compatible": _probe_openai,
    "slack_webhook": _probe_slack,
    "hmac_secret": _probe_hmac,
}
