"""What the audit log keeps out: secrets by key, by declared field and by look; and what it bounds."""

from __future__ import annotations

import pytest

from audit.redaction import REDACTED, bounded, clean_changes, clean_value, is_secret_key, redact


@pytest.mark.parametrize(
    "key",
    [
        "password",
        "new_password",
        "api_key",
        "apiKey",
        "X-API-Key",
        "key_hash",
        "clientSecret",
        "Authorization",
        "refresh_token",
        "access_token",
        "private_key",
        "session_key",
        "basic_auth",
        "encrypted_data",
        "keys",
    ],
)
def test_secret_keys(key):
    assert is_secret_key(key)


@pytest.mark.parametrize("key", ["author", "monkey", "name", "email", "scopes", "prefix", "description", "tokenizer"])
def test_ordinary_keys(key):
    assert not is_secret_key(key)


def test_redact_walks_nested_json_and_catches_credential_looking_values():
    value = {
        "nodes": [
            {"config": {"headers": {"Authorization": "Bearer abc", "Accept": "json"}, "url": "https://x"}},
            {"config": {"body": "fbk_0123456789ab_secretsecretsecret"}},
            {"config": {"note": "Bearer abcdefghijklmnop"}},
            {"config": {"jwt": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lnbmF0dXJl"}},
        ],
        "password": "",  # empty stays empty: it shows that nothing was set
    }
    out = redact(value)
    assert out["nodes"][0]["config"]["headers"] == {"Authorization": REDACTED, "Accept": "json"}
    assert out["nodes"][0]["config"]["url"] == "https://x"
    assert out["nodes"][1]["config"]["body"] == REDACTED
    assert out["nodes"][2]["config"]["note"] == REDACTED
    assert out["nodes"][3]["config"]["jwt"] == REDACTED
    assert out["password"] == ""


def test_declared_secret_fields_and_large_values():
    assert clean_value("data", {"api_key": "x", "url": "y"}, secret_fields={"data"}) == REDACTED
    assert clean_value("data", {"url": "y"}) == {"url": "y"}
    big = bounded({"blob": "x" * 10_000})
    assert big["truncated"] is True
    assert big["bytes"] > 10_000
    assert len(big["sha256"]) == 64
    assert clean_changes({"token": "abc", "reason": "because"}) == {"token": REDACTED, "reason": "because"}
