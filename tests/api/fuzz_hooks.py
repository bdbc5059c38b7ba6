"""Schemathesis hooks for tests/api/test_fuzzing.py (loaded through SCHEMATHESIS_HOOKS).

* ``error_envelope``: every error answer, from every layer, is SPEC §2's envelope.
* ``before_call``: most calls to an operation with ids in its path use ids of objects the
  test created (``FLOWBUILDER_FUZZ_IDS``), so detail operations are reached, not only 404s.
"""

from __future__ import annotations

import json
import os
import random
from typing import Any

import schemathesis

_IDS: dict[str, dict[str, Any]] = json.loads(os.environ.get("FLOWBUILDER_FUZZ_IDS", "{}"))
_PREFIXES = sorted(_IDS, key=len, reverse=True)  # the most specific first


@schemathesis.hook
def before_call(ctx: Any, case: Any, **kwargs: Any) -> None:
    parameters = case.path_parameters
    if not parameters:
        return
    prefix = next((p for p in _PREFIXES if case.operation.path.startswith(p)), None)
    if prefix is None or random.random() < 0.2:
        return
    for name, value in _IDS[prefix].items():
        if name in parameters:
            parameters[name] = value


@schemathesis.check
def error_envelope(ctx: Any, response: Any, case: Any) -> bool | None:
    """``{"error": {"code", "message", "details": [...], "request_id", "timestamp"}}`` on every 4xx and 5xx."""
    if response.status_code < 400:
        return None
    try:
        body = response.json()
    except ValueError:
        raise AssertionError(f"A {response.status_code} answer is not JSON: {response.text[:200]!r}") from None
    error = body.get("error") if isinstance(body, dict) else None
    if not isinstance(error, dict):
        raise AssertionError(f"A {response.status_code} answer has no error envelope: {response.text[:200]!r}")
    for key, kind in (("code", str), ("message", str), ("details", list), ("request_id", str), ("timestamp", str)):
        if not isinstance(error.get(key), kind):
            raise AssertionError(f"The error envelope's {key!r} is missing or not a {kind.__name__}: {error!r}")
    if error["request_id"] != response.headers.get("x-request-id", [None])[0]:
        raise AssertionError("The error's request_id is not the X-Request-ID header")
    return True
