"""Webhook triggers: the secret URL, signatures, replays, rate limits, and what a request becomes.

A workflow whose trigger is ``trigger.webhook`` has an unguessable token
(``Workflow.webhook_token``); ``/hooks/<token>`` starts a run of it with
``{body, query, headers}`` as input. The token is created when such a trigger
is saved, kept across edits, dropped when the trigger becomes another kind,
and replaced on demand (the old URL stops working at once).

**Signatures.** With an ``hmac_credential``, a request must carry
``X-Flowbuilder-Signature: t=<unix seconds>,v1=<hex>`` where ``v1`` is
HMAC-SHA256(secret, ``"<t>." + raw body``); several ``v1`` are allowed (key
rotation). ``t`` must be within FLOWBUILDER_WEBHOOK_TOLERANCE_SECONDS (5
minutes) of now. A signed request is accepted once: its signature, and its
``X-Flowbuilder-Delivery`` id when it has one, are remembered in the cache
(Redis in production, shared by every web process) and a replay is a 409. A
delivery id is honoured the same way on unsigned webhooks.
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from django.apps import apps
from django.conf import settings
from django.core.cache import cache
from django.core.files.uploadhandler import load_handler
from django.http import QueryDict
from django.http.multipartparser import MultiPartParser, MultiPartParserError

from executions.engine import credentials
from executions.engine.types import NodeError
from executions.models import Execution, StepRun
from executions.selectors import wait_on_run
from executions.services import execution_start
from flowbuilder import signing
from flowbuilder.api.errors import MethodNotAllowed, NotFound, ValidationFailed
from flowbuilder.api.parsers import json_depth_exceeds, reject_nul
from flowbuilder.api.throttling import RateLimitState, count_request
from workflows.errors import DeliveryReplayed, SignatureRejected, WebhookRateLimited
from workflows.models import Workflow
from workflows.triggers import trigger_config

SIGNATURE_HEADER = signing.HEADER
DELIVERY_HEADER = "X-Flowbuilder-Delivery"
EXECUTION_HEADER = "X-Flowbuilder-Execution-Id"
TOKEN_BYTES = 32
HMAC_CREDENTIAL_TYPE = "hmac_secret"

# Never handed to the workflow: credentials of the caller, and hop-by-hop headers (RFC 9110 §7.6.1).
DROPPED_HEADERS = frozenset(
    {
        "authorization",
        "cookie",
        "x-api-key",
        "x-csrftoken",
        "connection",
        "keep-alive",
        "te",
        "trailer",
        "trailers",
        "transfer-encoding",
        "upgrade",
        "http2-settings",
    }
)

SecretProvider = Callable[[Workflow, str], "bytes | None"]


# --- the token --------------------------------------------------------------------------


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def webhook_config(workflow: Workflow) -> dict[str, Any] | None:
    """The webhook trigger's config of the current definition (defaults filled), or None for another trigger."""
    return trigger_config(
        workflow, "trigger.webhook", {"method": "POST", "respond": "immediately", "response_timeout_seconds": 30}
    )


def token_sync(workflow: Workflow) -> None:
    """Give a webhook workflow a token (keeping the one it has); take it from any other. The caller saves."""
    if webhook_config(workflow) is None:
        workflow.webhook_token = None
    elif not workflow.webhook_token:
        workflow.webhook_token = new_token()


def webhook_target(token: str) -> tuple[Workflow, dict[str, Any]]:
    """The active webhook workflow behind ``token`` and its trigger config; NotFound for anything else."""
    workflow = (
        Workflow.objects.select_related("owner").filter(webhook_token=token).first()
        if token and len(token) <= 64
        else None
    )
    config = webhook_config(workflow) if workflow is not None else None
    if workflow is None or config is None or not workflow.is_active or not workflow.owner.is_active:
        raise NotFound("No active webhook at this URL")
    return workflow, config


# --- signatures and replays ------------------------------------------------------------------


def sign(secret: bytes, body: bytes, timestamp: int) -> str:
    """The ``X-Flowbuilder-Signature`` value for ``body`` sent at ``timestamp`` (what a sender computes)."""
    return signing.header_value(secret, body, timestamp)


def verify_signature(
    *, secret: bytes, header: str | None, body: bytes, now: float | None = None, tolerance: int | None = None
) -> int:
    """Check a ``t=…,v1=…`` signature of ``body``; answers its timestamp.

    Raises SignatureRejected when the header is missing or malformed, the
    timestamp is further than ``tolerance`` seconds from ``now`` (either way),
    or no ``v1`` matches.
    """
    tolerance = settings.FLOWBUILDER_WEBHOOK_TOLERANCE_SECONDS if tolerance is None else tolerance
    if not header:
        raise SignatureRejected(f"This webhook requires a {SIGNATURE_HEADER} header", field=SIGNATURE_HEADER)
    parsed = signing.parse(header)
    if parsed is None:
        raise SignatureRejected(
            f"Malformed {SIGNATURE_HEADER}: expected t=<unix time>,v1=<hex>", field=SIGNATURE_HEADER
        )
    if parsed.age(now) > tolerance:
        raise SignatureRejected(
            f"The signature's timestamp is more than {tolerance} seconds from now; sign the request again",
            field=SIGNATURE_HEADER,
        )
    if not parsed.matches(secret, body):
        raise SignatureRejected("The signature does not match the request body", field=SIGNATURE_HEADER)
    return parsed.timestamp


def claim_delivery(*, workflow_id: Any, delivery_id: str | None, signature: str | None) -> bool:
    """Remember this delivery; False if its id or its signature was already seen within the tolerance window.

    ``cache.add`` is atomic (SET NX on Redis), so two web processes racing
    with the same delivery accept it once.
    """
    fresh = True
    for key, timeout in _delivery_keys(workflow_id, delivery_id, signature):
        fresh &= bool(cache.add(key, 1, timeout=timeout))
    return fresh


def forget_delivery(*, workflow_id: Any, delivery_id: str | None, signature: str | None) -> None:
    """Undo :func:`claim_delivery` for a request that did not start a run."""
    keys = [key for key, _ in _delivery_keys(workflow_id, delivery_id, signature)]
    if keys:
        cache.delete_many(keys)


def _delivery_keys(workflow_id: Any, delivery_id: str | None, signature: str | None) -> list[tuple[str, int]]:
    tolerance = settings.FLOWBUILDER_WEBHOOK_TOLERANCE_SECONDS
    keys: list[tuple[str, int]] = []
    if delivery_id:
        keys.append((f"hook:delivery:{workflow_id}:{_digest(delivery_id)}", tolerance))
    if signature:
        # A signature stays acceptable up to `tolerance` on either side of its timestamp.
        keys.append((f"hook:signature:{workflow_id}:{_digest(signature)}", 2 * tolerance))
    return keys


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def credential_secret(workflow: Workflow, credential_id: str) -> bytes | None:
    """The secret of the ``hmac_secret`` credential ``credential_id`` of the workflow's owner.

    Read through the engine's credential store (installed by the integrations
    app), which checks the owner and the type on every call. Without the
    integrations app there are no credentials: the webhook is treated as
    unsigned. A credential that is gone or of another type fails closed
    (SignatureRejected), whatever the definition said when it was saved.
    """
    if not apps.is_installed("integrations"):
        return None
    try:
        resolved = credentials.store().resolve(
            owner_id=workflow.owner_id, reference=credential_id, expected_types=(HMAC_CREDENTIAL_TYPE,)
        )
    except NodeError:
        raise SignatureRejected("This webhook's signing credential is not available") from None
    secret = resolved.data.get("secret")
    if not secret:
        raise SignatureRejected("This webhook's signing credential is not available")
    return secret.encode() if isinstance(secret, str) else bytes(secret)


_secret_provider: SecretProvider = credential_secret


def install_secret_provider(provider: SecretProvider) -> SecretProvider:
    """Replace how signing secrets are looked up (tests); answers the previous provider."""
    global _secret_provider
    previous, _secret_provider = _secret_provider, provider
    return previous


def webhook_secret(workflow: Workflow, config: Mapping[str, Any]) -> bytes | None:
    """The signing secret of the webhook, or None if its requests are not signed."""
    reference = config.get("hmac_credential")
    if not reference:
        return None
    return _secret_provider(workflow, str(reference))


# --- rate limit -------------------------------------------------------------------------------


def rate_limit(token: str) -> RateLimitState | None:
    """Count a request to this webhook URL in every configured window; raises WebhookRateLimited past one."""
    if not settings.RATE_LIMIT_ENABLED:
        return None
    counted = count_request(f"rl:hook:{_digest(token)[:32]}", settings.FLOWBUILDER_WEBHOOK_RATE_LIMIT)
    tightest, retry_after = counted.tightest, counted.retry_after
    if retry_after and tightest is not None:
        raise WebhookRateLimited(
            f"Too many requests to this webhook; retry in {retry_after} seconds",
            retry_after=retry_after,
            limit=tightest.limit,
            reset=tightest.reset,
            window=tightest.window,
        )
    return tightest


# --- the request as the run's input --------------------------------------------------------------


@dataclass(frozen=True)
class WebhookRequest:
    """An incoming request, as read by the view: nothing here is parsed yet except the query."""

    method: str
    headers: Mapping[str, str]
    query: Mapping[str, Any]
    body: bytes
    content_type: str
    meta: Mapping[str, Any]


def input_headers(headers: Mapping[str, str]) -> dict[str, str]:
    """Headers for the workflow, lower-cased, without the caller's credentials or hop-by-hop headers."""
    named_by_connection = {
        name.strip().lower() for name in (headers.get("Connection") or "").split(",") if name.strip()
    }
    return {
        name.lower(): value
        for name, value in headers.items()
        if name.lower() not in DROPPED_HEADERS
        and not name.lower().startswith("proxy-")
        and name.lower() not in named_by_connection
    }


def query_dict(query: QueryDict) -> dict[str, Any]:
    """A query string as a dict: one value as a string, a repeated key as a list."""
    return {key: values[0] if len(values) == 1 else values for key, values in query.lists()}


def parse_body(request: WebhookRequest) -> Any:
    """JSON bodies parsed, form bodies as a dict, anything else as text; None when empty.

    Raises ValidationFailed (pointer ``body``) for JSON that does not parse or nests too deep.
    """
    if not request.body:
        return None
    media_type, _, params = request.content_type.partition(";")
    media_type = media_type.strip().lower()
    charset = "utf-8"
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.lower() == "charset" and value:
            charset = value.strip('"')
    if media_type == "application/json" or media_type.endswith("+json"):
        try:
            data = json.loads(request.body.decode(charset), parse_constant=_reject_constant)
        except (ValueError, UnicodeDecodeError, LookupError, RecursionError) as exc:
            raise ValidationFailed(f"The body is not valid JSON: {exc}", field="body") from None
        if json_depth_exceeds(data, settings.API_MAX_JSON_DEPTH):
            raise ValidationFailed(f"JSON nested deeper than {settings.API_MAX_JSON_DEPTH} levels", field="body")
        return data
    if media_type == "application/x-www-form-urlencoded":
        try:
            return query_dict(QueryDict(request.body, encoding=charset))
        except (UnicodeDecodeError, LookupError):
            raise ValidationFailed("The form body is not valid text", field="body") from None
    if media_type == "multipart/form-data":
        return _multipart(request)
    try:
        return request.body.decode(charset, errors="replace")
    except LookupError:
        return request.body.decode("utf-8", errors="replace")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _multipart(request: WebhookRequest) -> dict[str, Any]:
    meta = {**request.meta, "CONTENT_TYPE": request.content_type, "CONTENT_LENGTH": str(len(request.body))}
    handlers = [load_handler(path) for path in settings.FILE_UPLOAD_HANDLERS]
    try:
        fields, files = MultiPartParser(meta, io.BytesIO(request.body), handlers).parse()
    except MultiPartParserError as exc:
        raise ValidationFailed(f"The multipart body does not parse: {exc}", field="body") from None
    data = query_dict(fields)
    for name, uploads in files.lists():
        described = [{"filename": f.name, "content_type": f.content_type, "size": f.size} for f in uploads]
        data[name] = described[0] if len(described) == 1 else described
    return data


def request_input(request: WebhookRequest) -> dict[str, Any]:
    """The run's input: ``{body, query, headers}``; a NUL character anywhere is a 400 at its path."""
    data = {"body": parse_body(request), "query": dict(request.query), "headers": input_headers(request.headers)}
    reject_nul(data)
    return data


# --- receiving -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Accepted:
    execution: Execution
    config: dict[str, Any]
    rate: RateLimitState | None


def webhook_receive(*, token: str, request: WebhookRequest) -> Accepted:
    """Check a request to ``/hooks/<token>`` and start the run it asks for.

    In order: NotFound (unknown token, inactive workflow, not a webhook
    trigger), ``MethodNotAllowed`` (another method than the trigger's),
    WebhookRateLimited, SignatureRejected, DeliveryReplayed,
    ValidationFailed (a body that does not parse), then whatever
    ``execution_start`` raises (PayloadTooLarge over the input limit,
    RateLimited by ``max_concurrency: reject``).
    """
    workflow, config = webhook_target(token)
    if request.method.upper() != str(config["method"]).upper():
        raise MethodNotAllowed(
            f"This webhook accepts {config['method']} requests, not {request.method}",
            allow=str(config["method"]).upper(),
        )
    rate = rate_limit(token)
    secret = webhook_secret(workflow, config)
    signature = None
    if secret is not None:
        signature = request.headers.get(SIGNATURE_HEADER)
        verify_signature(secret=secret, header=signature, body=request.body)
    input_data = request_input(request)
    delivery = {"workflow_id": workflow.pk, "delivery_id": _delivery_id(request), "signature": signature}
    if (delivery["delivery_id"] or signature) and not claim_delivery(**delivery):
        field = DELIVERY_HEADER if delivery["delivery_id"] else SIGNATURE_HEADER
        raise DeliveryReplayed("This delivery was already received", field=field)
    try:
        execution, _ = execution_start(workflow=workflow, input_data=input_data, trigger=Execution.Trigger.WEBHOOK)
    except Exception:
        forget_delivery(**delivery)  # no run was made: the sender's retry must not be a 409
        raise
    return Accepted(execution=execution, config=config, rate=rate)


def _delivery_id(request: WebhookRequest) -> str | None:
    return (request.headers.get(DELIVERY_HEADER) or "").strip() or None


# --- answering when the run is done ----------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """What a ``respond: when_done`` caller gets: a Webhook Response node's output (``response``),
    the finished run (``finished``), or nothing yet (``pending``)."""

    kind: str
    response: dict[str, Any] | None = None
    execution: Execution | None = None


def wait_for_reply(execution_id: Any, timeout: float) -> Reply:
    """Wait until a ``webhook_response`` step of the run completed, the run ended, or ``timeout`` passed.

    The first Webhook Response to complete wins; the run goes on after it.
    """
    replies = (
        StepRun.objects.filter(execution_id=execution_id, node_type="webhook_response", status=StepRun.Status.COMPLETED)
        .order_by("completed_at", "id")
        .values_list("output", flat=True)
    )

    def answer(status: str) -> Reply | None:
        # Read the reply after the status: a run that ended has written its steps already.
        reply = replies.first()
        if reply is not None:
            return Reply("response", response=reply if isinstance(reply, dict) else {"body": reply})
        if status in Execution.FINISHED:
            return Reply("finished", execution=Execution.objects.get(pk=execution_id))
        return None

    return wait_on_run(execution_id, timeout, answer) or Reply("pending")
