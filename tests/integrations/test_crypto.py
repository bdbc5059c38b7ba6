"""Encryption at rest and key rotation."""

from __future__ import annotations

import io

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.db import connection

from integrations import crypto
from integrations.models import Credential
from integrations.services import credential_data

pytestmark = pytest.mark.django_db

OLD_KEY, NEW_KEY = Fernet.generate_key().decode(), Fernet.generate_key().decode()
TOKEN = "bearer-token-very-secret-0123456789"


def stored_column(credential: Credential) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT encrypted_data FROM integrations_credential WHERE id = %s", [credential.pk])
        return cursor.fetchone()[0]


def test_only_ciphertext_is_in_the_database(make_credential):
    credential = make_credential("http_bearer", {"token": TOKEN})
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM integrations_credential WHERE id = %s", [credential.pk])
        row = " ".join(str(value) for value in cursor.fetchone())
    assert TOKEN not in row
    assert "0123456789" not in row.replace(credential.hint, "")  # only the hint's four characters
    assert stored_column(credential).startswith("gAAAAA")  # a Fernet token
    assert credential.hint == "••••6789"
    assert credential_data(Credential.objects.get(pk=credential.pk)) == {"token": TOKEN}


def test_short_secrets_get_no_characters_in_the_hint(make_credential):
    assert make_credential("http_bearer", {"token": "short"}).hint == "••••"


def test_rotation_keeps_old_secrets_readable_and_rewrites_them(make_credential, settings):
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [OLD_KEY]
    credentials = [make_credential("http_bearer", {"token": f"{TOKEN}-{n}"}) for n in range(5)]
    before = {c.pk: stored_column(c) for c in credentials}

    settings.FLOWBUILDER_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    # Still readable under the new list, before any rotation.
    assert credential_data(Credential.objects.get(pk=credentials[0].pk))["token"] == f"{TOKEN}-0"
    # New writes use the new key at once.
    fresh = make_credential("http_bearer", {"token": "written-after-the-new-key"})
    assert Fernet(NEW_KEY).decrypt(stored_column(fresh).encode())

    out = io.StringIO()
    call_command("rotate_encryption_key", "--batch-size", "2", stdout=out)
    assert "Re-encrypted 5 of 6 secret(s) under the first key; 1 already were." in out.getvalue()
    for credential in credentials:
        token = stored_column(credential)
        assert token != before[credential.pk]
        assert Fernet(NEW_KEY).decrypt(token.encode())  # under the new key alone

    # The old key can go now.
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [NEW_KEY]
    assert [credential_data(Credential.objects.get(pk=c.pk))["token"] for c in credentials] == [
        f"{TOKEN}-{n}" for n in range(5)
    ]

    # Idempotent: a second run changes nothing.
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    rotated = {c.pk: stored_column(c) for c in credentials}
    out = io.StringIO()
    call_command("rotate_encryption_key", stdout=out)
    assert "Re-encrypted 0 of 6" in out.getvalue()
    assert {c.pk: stored_column(c) for c in credentials} == rotated


def test_dry_run_writes_nothing(make_credential, settings):
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [OLD_KEY]
    credential = make_credential("http_bearer", {"token": TOKEN})
    before = stored_column(credential)
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [NEW_KEY, OLD_KEY]
    out = io.StringIO()
    call_command("rotate_encryption_key", "--dry-run", stdout=out)
    assert "Would re-encrypt 1 of 1" in out.getvalue()
    assert stored_column(credential) == before


def test_secrets_no_key_opens_are_reported(make_credential, settings):
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [OLD_KEY]
    credential = make_credential("http_bearer", {"token": TOKEN})
    settings.FLOWBUILDER_ENCRYPTION_KEYS = [NEW_KEY]
    with pytest.raises(crypto.DecryptionFailed):
        credential_data(credential)
    with pytest.raises(
        CommandError, match=f"could not be decrypted with any configured key: integrations.Credential {credential.pk}"
    ):
        call_command("rotate_encryption_key", stdout=io.StringIO())


def test_generate_prints_a_usable_key():
    out, err = io.StringIO(), io.StringIO()
    call_command("rotate_encryption_key", "--generate", stdout=out, stderr=err)
    Fernet(out.getvalue().strip())
    assert "FIRST in FLOWBUILDER_ENCRYPTION_KEYS" in err.getvalue()


def test_malformed_keys_fail_the_system_check(settings):
    from integrations.apps import check_encryption_keys

    settings.FLOWBUILDER_ENCRYPTION_KEYS = ["not-a-key"]
    [error] = check_encryption_keys()
    assert error.id == "integrations.E001"
    assert "key #1 is not a Fernet key" in error.msg
