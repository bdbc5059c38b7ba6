"""Running untrusted Python in a separate process under OS isolation (SPEC §5).

    result = sandbox.run_script("output = inputs['a'] + 1", {"a": 1}, timeout_seconds=5, memory_mb=64)
    result.output        # 2
    result.stdout_lines  # what it printed

| module | what it holds |
|---|---|
| ``isolation.py`` | the mode in force (``FLOWBUILDER_SCRIPT_ISOLATION``), detected once per process; the sandbox command |
| ``seccomp.py`` | the seccomp filter bubblewrap installs: no new processes, fewer kernel entry points |
| ``launcher.py`` | what runs inside: reads the request, sets rlimits, runs the code, writes ``output`` |
| ``process.py`` | one sandbox: start, send the request, collect stdout/stderr/result, wall-clock kill |
| ``pool.py`` | warm sandboxes started ahead of time, each used for exactly one run |

Nothing here trusts the script's process: its result is parsed with size caps, its
output is capped, and whatever it leaves running is killed with its process group
(in bubblewrap mode, with its pid namespace).
"""

from __future__ import annotations

import json
import signal
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from django.conf import settings

from executions.engine.sandbox import isolation as isolation_module
from executions.engine.sandbox import pool, seccomp
from executions.engine.sandbox.isolation import PROCESS, Isolation
from executions.engine.sandbox.launcher import EXIT_BAD_REQUEST, EXIT_SCRIPT_FAILED
from executions.engine.sandbox.process import Completed, Limits, Sandbox

MAX_LOG_LINES = 500
MAX_LOG_LINE_CHARS = 2000
MAX_ERROR_CHARS = 4000

__all__ = [
    "Isolation",
    "IsolationUnavailable",
    "Limits",
    "SandboxFile",
    "ScriptError",
    "ScriptResult",
    "current_isolation",
    "reset",
    "run_script",
]


class ScriptError(Exception):
    """The script did not produce an output; ``message`` says why as the user should read it."""

    def __init__(self, message: str, *, retryable: bool = False, result: ScriptResult | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.retryable = retryable
        self.result = result  # what it printed before failing, if it ran


class IsolationUnavailable(ScriptError):
    """No acceptable isolation here: scripts are refused (not retryable)."""


class SandboxFile(TypedDict):
    """A file handed to a script (``run_script(files=…)``)."""

    id: str
    name: str
    content_type: str
    size: int
    bytes: bytes


@dataclass
class ScriptResult:
    """A finished run: ``output`` (on success), its print lines, stderr lines, and how it ran."""

    output: Any = None
    stdout_lines: list[str] = field(default_factory=list)
    stderr_lines: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what was dropped (too much output)
    isolation: Isolation | None = None
    warm: bool = False  # a sandbox from the pool
    seconds: float = 0.0


def current_isolation() -> Isolation:
    return isolation_module.current()


def reset() -> None:
    """Forget the detected isolation and discard warm sandboxes (tests; after installing bubblewrap)."""
    isolation_module.forget()
    pool.get().clear()


def run_script(
    code: str,
    inputs: Any,
    *,
    timeout_seconds: float,
    memory_mb: int,
    files: Mapping[str, SandboxFile] | None = None,
) -> ScriptResult:
    """Run ``code`` with ``inputs`` (and ``files``, by name) in a fresh sandbox; answers its output and prints.

    The script sees ``files`` as a dict of name → ``{"id", "name", "content_type",
    "size", "bytes"}`` (``bytes`` a Python ``bytes``: the request format carries it
    as is, no encoding). They are in the sandbox's memory before its limits apply,
    so they do not count against ``memory_mb``; the caller bounds their size.

    Raises :class:`IsolationUnavailable` when scripts may not run here, and
    :class:`ScriptError` when the script fails (exception, syntax error, timeout,
    a limit, an output that is not JSON or too large).
    """
    found = isolation_module.current()
    if not found.available:
        raise IsolationUnavailable(f"Scripts cannot run here: {found.detail}")
    limits = Limits(
        timeout_seconds=timeout_seconds,
        memory_mb=memory_mb,
        output_bytes=settings.FLOWBUILDER_MAX_STEP_OUTPUT_BYTES,
    )
    # JSON values only, whatever the caller passed (marshal would carry other types).
    inputs = json.loads(json.dumps(inputs, default=str))
    request = {"code": code, "inputs": inputs, "limits": limits.for_launcher(), "seccomp": _launcher_seccomp(found)}
    if files:
        request["files"] = {str(name): _sandbox_file(file) for name, file in files.items()}
    sandbox = pool.get().take(found, settings.FLOWBUILDER_SCRIPT_WARM_POOL)
    warm = sandbox is not None
    if sandbox is None:
        try:
            sandbox = Sandbox.start(found)
        except OSError as exc:
            raise ScriptError(f"Could not start the script's sandbox: {exc}", retryable=True) from exc
    try:
        completed = sandbox.run(request, limits)
    finally:
        sandbox.finish()  # already done after a run; here for a run that raised
        pool.get().replenish()
    result = ScriptResult(isolation=found, warm=warm, seconds=completed.seconds)
    result.stdout_lines = _lines(completed.stdout, result.notes, dropped_bytes=completed.stdout_dropped)
    result.stderr_lines = _lines(completed.stderr, result.notes, dropped_bytes=0)
    result.output = _output(completed, limits, result)
    return result


def _sandbox_file(file: SandboxFile) -> dict[str, Any]:
    """Only the fields the script is told about, as plain str / int / bytes (the request format's types)."""
    return {
        "id": str(file["id"]),
        "name": str(file["name"]),
        "content_type": str(file["content_type"]),
        "size": int(file["size"]),
        "bytes": bytes(file["bytes"]),
    }


def _launcher_seccomp(found: Isolation) -> bytes | None:
    """The filter the launcher installs itself: in process mode (bubblewrap installs its own)."""
    return seccomp.filter_program() if found.mode == PROCESS and found.seccomp else None


def _output(completed: Completed, limits: Limits, result: ScriptResult) -> Any:
    if completed.timed_out:
        raise ScriptError(
            f"The script timed out after {limits.timeout_seconds:g} s and was stopped", retryable=True, result=result
        )
    code = completed.returncode
    if code == EXIT_SCRIPT_FAILED:
        raise ScriptError(_stderr_text(completed) or "The script failed", result=result)
    if completed.signal is not None:
        raise ScriptError(_signal_message(completed.signal, limits), result=result)
    if code == EXIT_BAD_REQUEST:
        raise ScriptError(f"The sandbox rejected its request: {_stderr_text(completed)}", result=result)
    if code != 0:  # bubblewrap or the interpreter failed before the script ran
        detail = _stderr_text(completed) or "no message"
        raise ScriptError(f"The script's sandbox failed (exit status {code}): {detail}", retryable=True, result=result)
    if completed.result_overflow:
        raise ScriptError(f"`output` is larger than {limits.output_bytes:,} bytes of JSON", result=result)
    if completed.result is None:
        raise ScriptError("The script ended without a result (it must not end its own process)", result=result)
    try:
        return json.loads(completed.result)
    except (ValueError, RecursionError) as exc:
        raise ScriptError(f"The script's result is not valid JSON: {exc}", result=result) from None


def _signal_message(number: int, limits: Limits) -> str:
    try:
        name = signal.Signals(number).name
    except ValueError:
        name = f"signal {number}"
    if number == signal.SIGXCPU:
        return f"The script used more than its {limits.timeout_seconds:g} s of CPU time and was stopped"
    if number == signal.SIGKILL:
        return (
            f"The script was killed (SIGKILL): it went past its CPU time ({limits.timeout_seconds:g} s) "
            f"or memory ({limits.memory_mb} MB) limit"
        )
    if number == signal.SIGXFSZ:
        return f"The script wrote a file larger than its limit of {limits.file_bytes // 2**20} MB"
    return f"The script's process ended on {name}"


def _stderr_text(completed: Completed) -> str:
    text = completed.stderr.decode(errors="replace").strip()
    return text if len(text) <= MAX_ERROR_CHARS else "…" + text[-MAX_ERROR_CHARS:]


def _lines(data: bytes, notes: list[str], *, dropped_bytes: int) -> list[str]:
    lines = data.decode(errors="replace").splitlines()
    if len(lines) > MAX_LOG_LINES:
        notes.append(f"{len(lines) - MAX_LOG_LINES:,} more lines of output were dropped")
        lines = lines[:MAX_LOG_LINES]
    if dropped_bytes:
        notes.append(f"{dropped_bytes:,} more bytes of output were dropped")
    return [line if len(line) <= MAX_LOG_LINE_CHARS else line[:MAX_LOG_LINE_CHARS] + "…" for line in lines]
