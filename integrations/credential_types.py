"""The credential types of SPEC §3: the JSON Schema of each one's ``data``, its secrets and its hint.

``data`` is what a user stores (write-only through the API, encrypted at
rest). ``secret_fields`` are the values redacted from step results and never
shown; ``hint_field`` is the secret whose last characters make the masked hint
(``"••••abcd"``).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, quote_plus, urlsplit

from jsonschema import Draft202012Validator

JSONSchema = dict[str, Any]

# No line breaks in anything that may end up in a header.
_LINE = "^[^\\r\\n]*$"
_TEXT: JSONSchema = {"type": "string", "minLength": 1, "maxLength": 4096, "pattern": _LINE}
_SECRET: JSONSchema = {"type": "string", "minLength": 1, "maxLength": 16384, "pattern": _LINE}
_URL: JSONSchema = {"type": "string", "maxLength": 2048, "pattern": "^https?://[^\\s/?#]+[^\\s]*$"}
_TEST_URL: JSONSchema = {
    **_URL,
    "description": "An address the credential test calls with GET (optional).",
}
_HOSTNAME: JSONSchema = {"type": "string", "minLength": 1, "maxLength": 253, "pattern": "^[A-Za-z0-9.:\\-\\[\\]]+$"}
_EMAIL: JSONSchema = {"type": "string", "maxLength": 254, "pattern": "^(.*<)?[^@\\s<>]+@[^@\\s<>]+\\.?[^@\\s<>]*>?$"}


def _schema(properties: dict[str, JSONSchema], required: tuple[str, ...]) -> JSONSchema:
    return {
        "type": "object",
        "properties": properties,
        "required": list(required),
        "additionalProperties": False,
    }


@dataclass(frozen=True)
class CredentialType:
    name: str
    label: str
    schema: JSONSchema
    secret_fields: tuple[str, ...]
    hint_field: str

    def validator(self) -> Draft202012Validator:
        return _validators[self.name]


TYPES: dict[str, CredentialType] = {
    t.name: t
    for t in (
        CredentialType(
            "http_basic",
            "HTTP Basic auth",
            _schema({"username": _TEXT, "password": _SECRET, "test_url": _TEST_URL}, ("username", "password")),
            secret_fields=("password",),
            hint_field="password",
        ),
        CredentialType(
            "http_bearer",
            "Bearer token",
            _schema({"token": _SECRET, "test_url": _TEST_URL}, ("token",)),
            secret_fields=("token",),
            hint_field="token",
        ),
        CredentialType(
            "api_key",
            "API key",
            _schema(
                {
                    "name": {**_TEXT, "maxLength": 256, "pattern": "^[!#$%&'*+.^_`|~0-9A-Za-z-]+$"},
                    "value": _SECRET,
                    "in": {"enum": ["header", "query"]},
                    "test_url": _TEST_URL,
                },
                ("name", "value"),
            ),
            secret_fields=("value",),
            hint_field="value",
        ),
        CredentialType(
            "oauth2_token",
            "OAuth2 token",
            _schema(
                {
                    "access_token": _SECRET,
                    "refresh_token": _SECRET,
                    "token_url": _URL,
                    "client_id": _TEXT,
                    "client_secret": _SECRET,
                    "scope": _TEXT,
                    "test_url": _TEST_URL,
                },
                ("access_token",),
            ),
            secret_fields=("access_token", "refresh_token", "client_secret"),
            hint_field="access_token",
        ),
        CredentialType(
            "smtp",
            "SMTP server",
            _schema(
                {
                    "host": _HOSTNAME,
                    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
                    "username": _TEXT,
                    "password": _SECRET,
                    "use_tls": {
                        "type": "boolean",
                        "description": "STARTTLS after connecting (port 587); on unless set to false, so that "
                        "a password never crosses the network in the clear by omission.",
                    },
                    "use_ssl": {"type": "boolean", "description": "Implicit TLS (port 465)."},
                    "from_email": _EMAIL,
                },
                ("host", "port", "from_email"),
            ),
            secret_fields=("password",),
            hint_field="password",
        ),
        CredentialType(
            "openai_compatible",
            "OpenAI-compatible API",
            _schema(
                {"base_url": _URL, "api_key": _SECRET, "default_model": _TEXT, "organization": _TEXT},
                ("base_url",),
            ),
            secret_fields=("api_key",),
            hint_field="api_key",
        ),
        CredentialType(
            "slack_webhook",
            "Slack incoming webhook",
            _schema({"url": _URL}, ("url",)),
            secret_fields=("url",),
            hint_field="url",
        ),
        CredentialType(
            "hmac_secret",
            "HMAC secret",
            _schema({"secret": {**_SECRET, "minLength": 16}}, ("secret",)),
            secret_fields=("secret",),
            hint_field="secret",
        ),
    )
}
CHOICES = [(t.name, t.label) for t in TYPES.values()]

_PATTERN_MESSAGES = {
    _URL["pattern"]: "Enter an http:// or https:// URL",
    _LINE: "Must not contain line breaks",
    _EMAIL["pattern"]: "Enter an e-mail address",
    _HOSTNAME["pattern"]: "Enter a host name or IP address",
}
_validators = {name: Draft202012Validator(t.schema) for name, t in TYPES.items()}


def data_problems(credential_type: str, data: Any) -> list[dict[str, str]]:
    """Every problem of ``data`` for the type, as ``{field: "data.<path>", message}``."""
    kind = TYPES[credential_type]
    problems = []
    for error in sorted(kind.validator().iter_errors(data), key=lambda e: list(map(str, e.absolute_path))):
        path = "data" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path)
        if error.validator == "required":
            name = error.message.split("'")[1]
            problems.append({"field": f"{path}.{name}", "message": "This field is required"})
        elif error.validator == "additionalProperties":
            for name in sorted(set(data) - set(kind.schema["properties"])):
                allowed = ", ".join(kind.schema["properties"])
                problems.append({"field": f"{path}.{name}", "message": f"Unknown field; {kind.name} takes {allowed}"})
        elif error.validator == "pattern" and error.validator_value in _PATTERN_MESSAGES:
            problems.append({"field": path, "message": _PATTERN_MESSAGES[error.validator_value]})
        elif error.validator == "maxLength":
            problems.append({"field": path, "message": f"At most {error.validator_value} characters"})
        else:
            message = error.message if len(error.message) < 200 else error.message[:200] + "…"
            problems.append({"field": path, "message": message})
    return problems


def hint_of(credential_type: str, data: Mapping[str, Any]) -> str:
    """A masked hint of the main secret: its last four characters, and only when it is long enough to spare them."""
    secret = data.get(TYPES[credential_type].hint_field)
    if not isinstance(secret, str) or not secret:
        return ""
    return "••••" + secret[-4:] if len(secret) >= 12 else "••••"


# Shorter secrets are not redacted: replacing every "ab" in a step's output would wreck it, and a
# two-character secret protects nothing anyway.
MIN_REDACTED_LENGTH = 4


def secrets_of(credential_type: str, data: Mapping[str, Any]) -> frozenset[str]:
    """The secret values and the spellings they take on the wire or in an echo of it.

    Besides the value: URL-quoted, hex, reversed, and base64 (standard and URL-safe) as it
    appears wherever it sits in a longer encoded text, so a server that echoes the request's
    ``Authorization`` header base64-encoded, or the token hex-encoded, does not put it in a
    step's output in clear. ``http_basic`` adds the header as sent (``user:password`` encoded).
    """
    kind = TYPES.get(credential_type)
    if kind is None:
        return frozenset()
    found: set[str] = set()
    for name in kind.secret_fields:
        value = data.get(name)
        if isinstance(value, str) and len(value) >= MIN_REDACTED_LENGTH:
            found |= _spellings(value)
    if credential_type == "http_basic" and data.get("password"):
        pair = f"{data.get('username', '')}:{data['password']}".encode()
        found.add(base64.b64encode(pair).decode())
        found |= _base64_spellings(pair)
    if credential_type == "slack_webhook" and isinstance(data.get("url"), str):
        path = urlsplit(data["url"]).path
        if len(path) > 8:  # the secret part of https://hooks.slack.com/services/T…/B…/…
            found.add(path)
    return frozenset(found)


def _spellings(value: str) -> set[str]:
    raw = value.encode()
    forms = {value, quote(value, safe=""), quote_plus(value), raw.hex(), raw.hex().upper()}
    if len(value) >= 8:  # a short value reversed could be anything
        forms.add(value[::-1])
    return forms | _base64_spellings(raw)


def _base64_spellings(raw: bytes) -> set[str]:
    """The base64 characters that only ``raw`` decides, at each of the three byte alignments.

    Encoded inside a longer text, ``raw`` starts 0, 1 or 2 bytes into a 3-byte group; the
    characters it shares with its neighbours differ, the ones in between do not. Those are
    what is looked for (at least 8 of them, so as not to redact by chance).
    """
    forms: set[str] = set()
    for encode in (base64.b64encode, base64.urlsafe_b64encode):
        for offset in range(3):
            text = encode(bytes(offset) + raw).decode()
            start, end = -(-8 * offset // 6), 8 * (offset + len(raw)) // 6
            core = text[start:end]
            if len(core) >= 8:
                forms.add(core)
    return forms
