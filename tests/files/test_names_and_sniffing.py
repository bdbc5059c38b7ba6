"""Safe file names; content types from the bytes (both sniffing back ends)."""

from __future__ import annotations

import pytest

from files import sniffing
from files.names import safe_filename
from tests.files.samples import CSV_BYTES, PDF_BYTES, png_bytes


@pytest.mark.parametrize(
    ("raw", "safe"),
    [
        ("report.pdf", "report.pdf"),
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\system32\\config", "config"),
        ("..", "file"),
        ("", "file"),
        (None, "file"),
        ("a\x00b\x1f\u202etxt.exe", "abtxt.exe"),  # NUL, a control and a right-to-left override
        ('what?<is>:"this"|*.txt', "what__is___this___.txt"),
        ("  spaced    out  .txt ", "spaced out .txt"),
        (".env", "env"),
        ("CON.txt", "_CON.txt"),
        ("caf\u0065\u0301.png", "caf\u00e9.png"),  # NFC
    ],
)
def test_safe_filename(raw, safe):
    assert safe_filename(raw) == safe


def test_long_names_keep_their_extension_within_255_bytes():
    name = safe_filename("é" * 300 + ".csv")
    assert name.endswith(".csv")
    assert len(name.encode()) <= 255


@pytest.mark.parametrize(
    ("data", "declared", "content_type", "category"),
    [
        (png_bytes(), "application/pdf", "image/png", "image"),
        (PDF_BYTES, "image/png", "application/pdf", "document"),
        (CSV_BYTES, "application/octet-stream", "text/csv", "data"),
        (b'{"a": [1, 2, 3], "b": {"c": true}}', "text/plain", "application/json", "data"),
        (b"Just some notes.\nNothing more.\n", "text/markdown", "text/markdown", "document"),
        (b"Just some notes.\nNothing more.\n", "text/html", "text/plain", "document"),
        (b"\x00\x01\x02\x03\xff\xfe" * 20, "image/png", "application/octet-stream", "other"),
    ],
)
def test_libmagic_sniffing(data, declared, content_type, category):
    assert sniffing.BACKEND == "libmagic"  # installed here (Dockerfile, CI)
    sniffed = sniffing.sniff(data, declared)
    assert sniffed == content_type
    assert sniffing.category_for(sniffed) == category


def test_filetype_fallback_without_libmagic(monkeypatch):
    monkeypatch.setattr(sniffing, "magic", None)
    assert sniffing.sniff(png_bytes()) == "image/png"
    assert sniffing.sniff(PDF_BYTES) == "application/pdf"
    assert sniffing.sniff(CSV_BYTES, "text/csv") == "text/csv"
    assert sniffing.sniff("naïve text".encode()) == "text/plain"
    assert sniffing.sniff(b"\xff\xfe\x00\x80" * 50) == "application/octet-stream"


@pytest.mark.parametrize(
    ("content_type", "category"),
    [
        ("audio/mpeg", "audio"),
        ("video/mp4", "video"),
        ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "data"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        ("application/ld+json", "data"),
        ("application/zip", "other"),
    ],
)
def test_categories(content_type, category):
    assert sniffing.category_for(content_type) == category


def test_s3_storage_is_configured_only_when_a_bucket_is_set():
    import json
    import os
    import subprocess
    import sys

    code = (
        "import json, django, os; os.environ['DJANGO_SETTINGS_MODULE'] = 'flowbuilder.settings'; django.setup(); "
        "from django.conf import settings; from django.core.files.storage import storages; "
        "s = storages['files']; print(json.dumps([type(s).__module__, getattr(s, 'bucket_name', None), "
        "getattr(s, 'endpoint_url', None), getattr(s, 'location', None), getattr(s, 'default_acl', 'x')]))"
    )
    env = {
        **os.environ,
        "FLOWBUILDER_S3_BUCKET": "flowbuilder-files",
        "FLOWBUILDER_S3_ENDPOINT_URL": "http://127.0.0.1:9000",
        "FLOWBUILDER_S3_PREFIX": "uploads",
    }
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert json.loads(out.stdout) == [
        "storages.backends.s3",
        "flowbuilder-files",
        "http://127.0.0.1:9000",
        "uploads",
        None,
    ]
