"""One sandbox process: starting it, handing it one request, collecting what it says, ending it.

A :class:`Sandbox` is started (:meth:`Sandbox.start`) with four pipes: stdin (the
request, in marshal format), stdout (the script's prints), stderr (its failure), and a dedicated
result pipe (``output`` as JSON). Its launcher waits for the request, so a sandbox
may be started ahead of time (:mod:`.pool`). :meth:`Sandbox.run` sends the request
and reads all pipes until the process ends or the wall-clock deadline passes, then
kills the whole process group (in bubblewrap mode that ends the sandbox's pid
namespace, and everything in it). A sandbox serves exactly one run.
"""

from __future__ import annotations

import contextlib
import marshal
import os
import select
import selectors
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from typing import Any

from executions.engine.sandbox import seccomp
from executions.engine.sandbox.isolation import BUBBLEWRAP, SANDBOX_ENV, Isolation

READ_CHUNK = 65536
STDOUT_KEEP_BYTES = 64 * 1024  # print output kept for the log; the rest is counted and dropped
STDERR_KEEP_BYTES = 16 * 1024  # the end of stderr is kept (a traceback ends there)
EXIT_GRACE_SECONDS = 1.0  # after the process ends or is killed, how long its pipes may take to close


@dataclass(frozen=True)
class Limits:
    """What one run may use. ``memory_mb`` comes on top of the interpreter's own address space."""

    timeout_seconds: float
    memory_mb: int = 256
    processes: int = 16  # RLIMIT_NPROC (threads count too)
    file_bytes: int = 32 * 2**20  # RLIMIT_FSIZE: the largest file the script may write
    open_files: int = 64
    output_bytes: int = 1_000_000

    def for_launcher(self) -> dict[str, int]:
        return {
            "cpu_seconds": max(1, int(self.timeout_seconds + 0.999)),
            "memory_bytes": self.memory_mb * 2**20,
            "processes": self.processes,
            "file_bytes": self.file_bytes,
            "open_files": self.open_files,
            "output_bytes": self.output_bytes,
        }


@dataclass
class Completed:
    """What a run left behind. ``result`` is None when nothing arrived on the result pipe."""

    returncode: int | None
    timed_out: bool
    result: bytes | None
    result_overflow: bool
    stdout: bytes
    stdout_dropped: int
    stderr: bytes
    seconds: float

    @property
    def signal(self) -> int | None:
        """The signal that ended the script, if one did (bubblewrap reports it as 128 + N)."""
        if self.returncode is None:
            return None
        if self.returncode < 0:
            return -self.returncode
        return self.returncode - 128 if self.returncode > 128 else None


@dataclass
class _Stream:
    keep: int
    tail: bool = False  # keep the end rather than the start
    data: bytearray = field(default_factory=bytearray)
    dropped: int = 0

    def add(self, chunk: bytes) -> None:
        self.data += chunk
        if len(self.data) > self.keep:
            extra = len(self.data) - self.keep
            self.dropped += extra
            if self.tail:
                del self.data[:extra]
            else:
                del self.data[self.keep :]


class Sandbox:
    """A started sandbox, waiting for its one request."""

    def __init__(
        self, isolation: Isolation, process: subprocess.Popen[bytes], result_fd: int, workdir: str | None
    ) -> None:
        self.isolation = isolation
        self.process = process
        self.result_fd = result_fd
        self.workdir = workdir
        self.started_at = time.monotonic()
        self.pidfd: int | None = None
        with contextlib.suppress(AttributeError, OSError):  # no pidfd: not Linux, or a kernel before 5.3
            self.pidfd = os.pidfd_open(process.pid)
        self._finished = False

    @classmethod
    def start(cls, isolation: Isolation) -> Sandbox:
        """Start a sandbox (its launcher then waits for a request). Raises OSError if it cannot start."""
        result_read, result_write = os.pipe()
        filter_fd = seccomp.program_fd() if isolation.mode == BUBBLEWRAP and isolation.seccomp else None
        env = dict(SANDBOX_ENV)
        workdir = None
        if isolation.mode != BUBBLEWRAP:  # process mode: a private working directory
            workdir = tempfile.mkdtemp(prefix="flowbuilder-script-")
            if isolation.run_as is not None:
                os.chown(workdir, isolation.run_as, isolation.run_as)
            env["TMPDIR"] = workdir
        pass_fds = (result_write,) if filter_fd is None else (result_write, filter_fd)
        try:
            process = subprocess.Popen(  # noqa: S603  (argv from the detected isolation, no shell)
                isolation.command(result_write, filter_fd),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                pass_fds=pass_fds,
                env=env,  # bubblewrap itself gets no server environment: its pid 1 in the sandbox keeps it
                cwd=workdir or "/",
                start_new_session=True,  # one process group to kill
                bufsize=0,
                **isolation.popen_kwargs(),
            )
        except BaseException:
            os.close(result_read)
            if workdir:
                shutil.rmtree(workdir, ignore_errors=True)
            raise
        finally:
            os.close(result_write)
            if filter_fd is not None:
                os.close(filter_fd)
        return cls(isolation, process, result_read, workdir)

    @property
    def alive(self) -> bool:
        """Still waiting for its request (it did not die while warm)."""
        if self._finished:
            return False
        if self.pidfd is not None:
            poller = select.poll()  # not select(): a busy worker may hold fds past 1024
            poller.register(self.pidfd, select.POLLIN)
            return not poller.poll(0)
        return self.process.poll() is None

    def run(self, request: dict[str, Any], limits: Limits) -> Completed:
        """Send ``request``, collect everything until the process ends or ``limits.timeout_seconds`` pass.

        ``request`` holds JSON values only (the launcher reads it with ``marshal``).

        The sandbox is finished afterwards, whatever happened.
        """
        payload = memoryview(marshal.dumps(request))
        started = time.monotonic()
        deadline = started + limits.timeout_seconds
        out, err = _Stream(STDOUT_KEEP_BYTES), _Stream(STDERR_KEEP_BYTES, tail=True)
        result = _Stream(limits.output_bytes + 1)
        streams = {
            self.process.stdout.fileno(): out,  # type: ignore[union-attr]
            self.process.stderr.fileno(): err,  # type: ignore[union-attr]
            self.result_fd: result,
        }
        stdin = self.process.stdin.fileno()  # type: ignore[union-attr]
        pending = {stdin, *streams}  # pipes still open
        ended_at: float | None = None  # when the process exited, or was killed
        timed_out = False
        with selectors.DefaultSelector() as selector:
            for fd in pending:
                os.set_blocking(fd, False)
                selector.register(fd, selectors.EVENT_WRITE if fd == stdin else selectors.EVENT_READ)
            if self.pidfd is not None:
                selector.register(self.pidfd, selectors.EVENT_READ)
            while True:
                now = time.monotonic()
                if ended_at is None:
                    if self.pidfd is None and self.process.poll() is not None:
                        ended_at = now
                    elif now >= deadline:
                        timed_out = True
                        self._kill()
                        ended_at = now
                if ended_at is not None and (not pending or now >= ended_at + EXIT_GRACE_SECONDS):
                    break  # done; or something outlived the script holding a pipe: stop listening
                limit = deadline if ended_at is None else ended_at + EXIT_GRACE_SECONDS
                wait = limit - now if self.pidfd is not None else min(limit - now, 0.05)
                for key, _ in selector.select(max(wait, 0)):
                    fd = key.fd
                    if fd == self.pidfd:
                        selector.unregister(fd)
                        ended_at = ended_at or time.monotonic()
                    elif fd == stdin:
                        try:
                            payload = payload[os.write(fd, payload[:READ_CHUNK]) :]
                        except BrokenPipeError:  # it died before reading its request
                            payload = payload[:0]
                        if not payload:
                            selector.unregister(fd)
                            pending.discard(fd)
                            self.process.stdin.close()  # type: ignore[union-attr]
                    elif chunk := os.read(fd, READ_CHUNK):
                        streams[fd].add(chunk)
                    else:
                        selector.unregister(fd)
                        pending.discard(fd)
        seconds = time.monotonic() - started
        self.finish()
        return Completed(
            returncode=self.process.returncode,
            timed_out=timed_out,
            result=bytes(result.data) if result.data else None,  # the launcher never writes an empty result
            result_overflow=result.dropped > 0,
            stdout=bytes(out.data),
            stdout_dropped=out.dropped,
            stderr=bytes(err.data),
            seconds=seconds,
        )

    def _kill(self) -> None:
        """SIGKILL the process group: bubblewrap's death ends the sandbox's pid namespace with it.

        Safe after the leader was reaped: Linux keeps a pid number reserved while it names a process group.
        """
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGKILL)

    def finish(self) -> None:
        """Kill what is left (stray children in process mode too), reap, close every pipe, remove the workdir.

        Idempotent.
        """
        if self._finished:
            return
        self._finished = True
        self._kill()
        self.process.wait()
        for stream in (self.process.stdin, self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        for fd in (self.result_fd, self.pidfd):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        if self.workdir:
            shutil.rmtree(self.workdir, ignore_errors=True)
