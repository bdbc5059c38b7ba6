"""The README's quick start, run as written against a live server.

Its fenced ``sh`` blocks are run in order in one shell (variables carry over, as in a reader's
terminal); only the ports change: the server's for ``localhost:8000``, a free one for the demo
file server's 9000, and the venv's Python for ``.venv/bin/python``.
"""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.executions.live.helpers import running_server, server_env

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

README = Path(__file__).resolve().parents[1] / "README.md"


def section(title: str) -> str:
    text = README.read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def shell_blocks(markdown: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", markdown, re.S)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_quick_start_runs_as_written(celery_worker, tmp_path, settings):
    settings.FLOWBUILDER_HTTP_ALLOWLIST = ["127.0.0.1"]  # the session's worker runs the steps, in this process
    blocks = shell_blocks(section("Quick start"))
    assert len(blocks) >= 5
    demo_port = free_port()
    env = server_env(FLOWBUILDER_HTTP_ALLOWLIST="127.0.0.1")
    with running_server(env, tmp_path / "server.log") as base:
        host = base.removeprefix("http://")
        script = "\n".join(blocks)
        script = script.replace("localhost:8000", host).replace("9000", str(demo_port))
        script = script.replace(".venv/bin/python", sys.executable).replace("/tmp/fb-demo", str(tmp_path / "demo"))
        done = subprocess.run(
            ["bash", "-c", "set -euo pipefail\ntrap 'kill $(jobs -p) 2>/dev/null' EXIT\n" + script],
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
            cwd=tmp_path,
        )
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert '"email":"me@example.com"' in out.replace(" ", "")  # /auth/me
    assert "workflow " in out
    assert out.splitlines()[-1] == "Price check (copy)"
    assert "completed {'item': 'lamp', 'price': 120}" in out
    events = [line.split() for line in out.splitlines() if line.startswith(("snapshot", "step_update", "execution_"))]
    assert events[0][0] == "snapshot"
    assert events[-1][:2] in (["execution_completed", "completed"], ["snapshot", "completed"])


def test_the_sdk_section_commands_run(celery_worker, tmp_path):
    """The SDK section's exports: an API key for the demo user, made by the management command."""
    from django.core.management import call_command

    call_command("create_demo_user", stdout=io.StringIO())
    blocks = shell_blocks(section("Client SDKs"))
    script = "\n".join(blocks).replace(".venv/bin/python", sys.executable)
    done = subprocess.run(
        ["bash", "-c", f'set -euo pipefail\n{script}\necho "$FLOWBUILDER_URL $FLOWBUILDER_API_KEY"'],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=README.parent,
        env={**server_env()},
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert len(done.stdout.split()) >= 2, done.stdout + done.stderr
    url, key = done.stdout.split()[-2:]
    assert url == "http://localhost:8000"
    assert key.startswith("fbk_")
