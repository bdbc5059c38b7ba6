"""Real HTTP receivers on loopback for the outgoing webhooks, and helpers to check what they got.

* ``receiver`` (127.0.0.1, allow-listed through FLOWBUILDER_HTTP_ALLOWLIST): answers each path
  as the test scripts it (``receiver.script("/flaky", [500, 200])``: 500 first, then 200 for
  ever; unscripted paths answer 200; 0 answers too late; a 3xx points at ``redirect_to``) and
  records every request with its raw body;
* ``forbidden`` (127.0.0.2, not allow-listed): must never be reached; the fixture fails the
  test if it was.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhooks.receivers import Receiver


@pytest.fixture(scope="session")
def _receiver() -> Iterator[Receiver]:
    server = Receiver("127.0.0.1")
    yield server
    server.stop()


@pytest.fixture(scope="session")
def _forbidden() -> Iterator[Receiver]:
    server = Receiver("127.0.0.2")
    yield server
    server.stop()


@pytest.fixture
def receiver(_receiver, settings) -> Iterator[Receiver]:
    _receiver.clear()
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]
    yield _receiver
    _receiver.clear()


@pytest.fixture
def forbidden(_forbidden) -> Iterator[Receiver]:
    _forbidden.clear()
    yield _forbidden
    assert _forbidden.got() == [], "the receiver on 127.0.0.2 (not allow-listed) was reached"
