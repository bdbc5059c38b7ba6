"""Node types that exist only in tests: a step that fails on demand, one that takes its time.

Loaded by the registry through FLOWBUILDER_EXTRA_NODE_MODULES (tests/conftest.py
sets it), so subprocess workers know them too.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from executions.engine.nodes._schema import config_schema, prop
from executions.engine.registry import register
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType, Wait


def _flaky(ctx: NodeContext) -> NodeResult:
    """Fails its first ``fail_times`` attempts (or while ``fail_unless_exists`` is missing), then outputs the attempt."""
    retryable = bool(ctx.config.get("retryable", True))
    if ctx.attempt <= int(ctx.config.get("fail_times", 0)):
        raise NodeError(f"flaky failure on attempt {ctx.attempt}", retryable=retryable)
    guard = ctx.config.get("fail_unless_exists")
    if guard and not Path(guard).exists():
        raise NodeError(f"{guard} does not exist", retryable=retryable)
    return NodeResult(output={"attempt": ctx.attempt, "value": ctx.config.get("value")})


def _fail_as_told(ctx: NodeContext, phase: str) -> NodeResult:
    ctx.log("info", f"{phase} {ctx.node_id}")
    if ctx.config.get("raise") == "bug":
        raise RuntimeError(f"a bug while {phase}")
    raise NodeError(f"refused while {phase}", retryable=False)


def _fragile(ctx: NodeContext) -> NodeResult:
    """Logs a line, then waits (``wait``: an hour) or fails: ``raise: bug`` a RuntimeError, else a NodeError."""
    if ctx.config.get("wait"):
        ctx.log("info", f"waiting {ctx.node_id}")
        return NodeResult(wait=Wait(wake_at=timezone.now() + timedelta(hours=1)))
    return _fail_as_told(ctx, "executing")


def _fragile_resume(ctx: NodeContext) -> NodeResult:
    return _fail_as_told(ctx, "resuming")


def _slow(ctx: NodeContext) -> NodeResult:
    """Sleeps, recording start and end; with ``marker_dir`` it also leaves a file per run (for counting).

    With ``gate`` (a path) it first waits until that file exists (at most a minute): tests hold a run
    mid-step that way. ``log`` is a line it logs.
    """
    started = time.time()
    if ctx.config.get("log"):
        ctx.log("info", str(ctx.config["log"]))
    gate = ctx.config.get("gate")
    if gate:
        deadline = time.monotonic() + 60
        while not Path(gate).exists() and time.monotonic() < deadline:
            time.sleep(0.01)
    marker_dir = ctx.config.get("marker_dir")
    if marker_dir:
        Path(marker_dir, f"{ctx.node_id}.{ctx.attempt}.{os.getpid()}.started").touch()
    seconds = ctx.config.get("first_attempt_seconds") if ctx.attempt == 1 else None
    time.sleep(float(seconds if seconds is not None else ctx.config.get("seconds", 0.5)))
    if marker_dir:
        Path(marker_dir, f"{ctx.node_id}.{ctx.attempt}.{os.getpid()}.done").touch()
    return NodeResult(output={"started": started, "ended": time.time(), "value": ctx.config.get("value")})


def _kill_worker(ctx: NodeContext) -> NodeResult:
    """SIGKILLs the process running it (a poison pill), leaving a marker file per try in ``marker_dir``.

    Only where ``FLOWBUILDER_TEST_KILLABLE`` is set (a worker subprocess a test started): anywhere
    else it would kill the test run itself, so it fails instead.
    """
    marker_dir = ctx.config.get("marker_dir")
    if marker_dir:
        Path(marker_dir, f"{ctx.node_id}.{os.getpid()}.{time.monotonic_ns()}").touch()
    if not os.environ.get("FLOWBUILDER_TEST_KILLABLE"):
        raise NodeError("test.kill_worker runs only in a killable worker", retryable=False)
    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


_ANY = prop("Any", "Anything")

FLAKY = register(
    NodeType(
        type="test.flaky",
        label="Flaky (tests)",
        description="Fails its first attempts.",
        category=NodeCategory.DATA,
        config_schema=config_schema({"fail_times": _ANY, "retryable": _ANY, "value": _ANY, "fail_unless_exists": _ANY}),
        execute=_flaky,
    )
)
FRAGILE = register(
    NodeType(
        type="test.fragile",
        label="Fragile (tests)",
        description="Logs, then fails (or waits and fails when resumed).",
        category=NodeCategory.DATA,
        config_schema=config_schema({"raise": _ANY, "wait": _ANY}),
        inline=True,
        execute=_fragile,
        resume=_fragile_resume,
    )
)
SLOW = register(
    NodeType(
        type="test.slow",
        label="Slow (tests)",
        description="Sleeps.",
        category=NodeCategory.DATA,
        config_schema=config_schema(
            {
                "seconds": _ANY,
                "first_attempt_seconds": _ANY,
                "value": _ANY,
                "marker_dir": _ANY,
                "gate": _ANY,
                "log": _ANY,
            }
        ),
        execute=_slow,
    )
)
KILL_WORKER = register(
    NodeType(
        type="test.kill_worker",
        label="Kill worker (tests)",
        description="SIGKILLs its own worker process.",
        category=NodeCategory.DATA,
        config_schema=config_schema({"marker_dir": _ANY}),
        execute=_kill_worker,
    )
)
KILL_WORKER_INLINE = register(
    NodeType(
        type="test.kill_worker_inline",
        label="Kill worker, inline (tests)",
        description="SIGKILLs the process running the run's start or the step before it.",
        category=NodeCategory.DATA,
        config_schema=config_schema({"marker_dir": _ANY}),
        inline=True,
        execute=_kill_worker,
    )
)
