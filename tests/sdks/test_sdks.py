"""The client SDKs' own test suites, run against a live server in production shape.

Each SDK's tests (``clients/python/tests``, ``clients/typescript/test``) know only ``FLOWBUILDER_URL``:
they register their own users through the API. Here that URL is a uvicorn subprocess on the test
database and the tests' Redis, its runs executed by the session's Celery worker. The committed
generated files (the OpenAPI schema, the Python models, the sync client, the TypeScript types)
must be what the server and the generator produce now.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.executions.live.helpers import running_server, server_env

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)  # keeps the roles migrations made

ROOT = Path(__file__).resolve().parents[2]
CLIENTS = ROOT / "clients"


def sdk_server_env() -> dict[str, str]:
    # Each SDK test registers and logs in its own user, all from 127.0.0.1: the per-IP limit on
    # the auth endpoints (10 a minute) would stop them, while the per-user limits stay as shipped.
    return server_env(RATE_LIMIT_AUTH="1000/minute")


def run(command: list[str], cwd: Path, env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def test_the_generated_client_files_are_current():
    result = run([sys.executable, "clients/generate.py", "--check"], ROOT, dict(os.environ), timeout=180)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_python_sdk_suite_passes_against_a_live_server(celery_worker, tmp_path):
    with running_server(sdk_server_env(), tmp_path / "server.log") as base:
        env = {
            **os.environ,
            "FLOWBUILDER_URL": base,
            "PYTHONPATH": str(CLIENTS / "python/src"),
            "FLOWBUILDER_API_KEY": "",
            "FLOWBUILDER_TOKEN": "",
        }
        env.pop("DJANGO_SETTINGS_MODULE", None)
        result = run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:django", "-p", "no:cacheprovider", "tests"],
            CLIENTS / "python",
            env,
        )
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert " passed" in result.stdout


def test_the_typescript_sdk_suite_passes_against_a_live_server(celery_worker, tmp_path):
    typescript = CLIENTS / "typescript"
    with running_server(sdk_server_env(), tmp_path / "server.log") as base:
        env = {**os.environ, "FLOWBUILDER_URL": base, "FLOWBUILDER_API_KEY": "", "FLOWBUILDER_TOKEN": ""}
        result = run(["npm", "test", "--silent"], typescript, env)
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-3000:]
    assert "# fail 0" in result.stdout
