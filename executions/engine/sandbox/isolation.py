"""Which OS isolation scripts run under, detected once per process, and the command that starts a sandbox.

``FLOWBUILDER_SCRIPT_ISOLATION`` chooses:

* ``bubblewrap`` (the default): every script runs in its own bubblewrap sandbox, a
  set of fresh namespaces (user, pid, network, ipc, uts, cgroup, mount) with no
  network but a loopback of its own, an empty environment, read-only binds of the
  system (``/usr``) and the interpreter's installation (its ``site-packages``
  hidden) and nothing else (not the project, the data directory, ``/root``,
  ``/home``, of ``/etc`` only ``ld.so.cache``), an empty size-capped ``/tmp``, its
  own read-only ``/proc`` and a minimal ``/dev``, no capabilities, no nested user
  namespaces, a seccomp filter (:mod:`.seccomp`), and rlimits (:mod:`.launcher`). If
  bubblewrap is missing or cannot create its namespaces here, scripts are refused:
  nothing falls back on its own.
* ``process``: a separate process with rlimits, an empty environment and the same
  seccomp filter (installed by the launcher) only. It can read what its user can read
  and reach the network; chosen explicitly, and every run logs a warning.
* anything else (``none``): refused. No language-level sandbox is trusted alone.

Either way the sandbox never runs as the host's root: under a root server it is
started as ``nobody`` (so its interpreter must be one nobody can run, see
:func:`_choose_python`).

:func:`current` answers the :class:`Isolation` in force; it tries a real sandbox once
per process (and again only when the settings change).
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import threading
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from django.conf import settings

from executions.engine.sandbox import seccomp

BUBBLEWRAP = "bubblewrap"
PROCESS = "process"
MODES = (BUBBLEWRAP, PROCESS)

NOBODY = 65534  # the uid and gid sandboxes run as when the server runs as root
SYSTEM_PYTHON = "/usr/bin/python3"
# The only environment a sandbox (and bubblewrap itself) ever sees.
SANDBOX_ENV = {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
TMP_BYTES = 64 * 2**20  # the sandbox's /tmp (memory-backed)
PROBE_TIMEOUT = 15.0

LAUNCHER_SOURCE = (Path(__file__).parent / "launcher.py").read_text()
# -I: no environment variables, no user site, no script directory on sys.path;
# -S: no site module, so only the standard library is importable.
PYTHON_FLAGS = ("-I", "-S")


@dataclass(frozen=True)
class Isolation:
    """The isolation in force: whether scripts may run, and how a sandbox is started.

    ``detail`` says, for people, what is active or why scripts are refused.
    """

    mode: str
    available: bool
    detail: str
    python: str = ""
    bwrap: str | None = None
    binds: tuple[str, ...] = ()  # host paths bound read-only besides /usr
    hidden: tuple[str, ...] = ()  # directories covered by an empty read-only tmpfs
    seccomp: bool = False
    run_as: int | None = None  # the uid and gid the sandbox is started as (nobody under a root server)
    setpriv: str | None = None  # util-linux setpriv, which switches to run_as (see identity_prefix)

    @property
    def summary(self) -> str:
        return f"{self.mode}: {self.detail}" if self.available else f"unavailable ({self.mode}): {self.detail}"

    def identity_prefix(self) -> list[str]:
        """What starts the sandbox as ``run_as``: ``setpriv``, which keeps spawning cheap.

        ``subprocess``'s own ``user=`` must fork the whole server process instead of
        vfork-ing it: 10-20 ms, and page-table copies, in a worker's hot path.
        """
        if self.run_as is None or self.setpriv is None:
            return []
        return [self.setpriv, f"--reuid={self.run_as}", f"--regid={self.run_as}", "--clear-groups", "--"]

    def popen_kwargs(self) -> dict[str, Any]:
        """``subprocess`` arguments that start the sandbox as ``run_as`` where no ``setpriv`` does."""
        if self.run_as is None or self.setpriv is not None:
            return {}
        return {"user": self.run_as, "group": self.run_as, "extra_groups": []}

    def command(self, result_fd: int, seccomp_fd: int | None) -> list[str]:
        """The argv that starts one sandboxed launcher writing its result to ``result_fd``."""
        launcher = [self.python, *PYTHON_FLAGS, "-c", LAUNCHER_SOURCE, str(result_fd)]
        if self.mode != BUBBLEWRAP:
            return [*self.identity_prefix(), *launcher]
        assert self.bwrap is not None
        argv = [
            *self.identity_prefix(),
            self.bwrap,
            "--unshare-all",
            "--unshare-user",  # root too gets a user namespace (it is only tried by --unshare-all)
            "--disable-userns",
            "--uid", str(NOBODY),
            "--gid", str(NOBODY),
            "--cap-drop", "ALL",
            "--die-with-parent",
            "--new-session",
            "--clearenv",
            "--hostname", "sandbox",
        ]  # fmt: skip
        for name, value in SANDBOX_ENV.items():
            argv += ["--setenv", name, value]
        argv += ["--ro-bind", "/usr", "/usr"]
        for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64"):
            if os.path.islink(top):  # merged /usr: /bin -> usr/bin
                argv += ["--symlink", os.readlink(top), top]
            elif os.path.isdir(top):
                argv += ["--ro-bind", top, top]
        argv += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
        for path in self.binds:
            argv += ["--ro-bind", path, path]
        for path in self.hidden:
            argv += ["--tmpfs", path, "--remount-ro", path]
        argv += ["--proc", "/proc", "--remount-ro", "/proc"]  # its own pids; nothing in it to write
        # The sandbox's own /tmp: a fresh, size-capped tmpfs inside its mount namespace.
        tmp = "/tmp"  # noqa: S108
        argv += ["--dev", "/dev", "--size", str(TMP_BYTES), "--tmpfs", tmp, "--chdir", tmp]
        if seccomp_fd is not None:
            argv += ["--seccomp", str(seccomp_fd)]
        return [*argv, *launcher]


_lock = threading.Lock()
_detected: dict[tuple[str, str, str], Isolation] = {}


def _settings_key() -> tuple[str, str, str]:
    return (
        settings.FLOWBUILDER_SCRIPT_ISOLATION.strip().lower(),
        settings.FLOWBUILDER_SCRIPT_BWRAP,
        settings.FLOWBUILDER_SCRIPT_PYTHON,
    )


def current() -> Isolation:
    """The isolation in force for the current settings, detected once per process."""
    key = _settings_key()
    found = _detected.get(key)
    if found is None:
        with _lock:
            found = _detected.get(key)
            if found is None:
                found = _detected[key] = _detect(*key)
    return found


def forget() -> None:
    """Detect again on the next call (tests, or after installing bubblewrap)."""
    with _lock:
        _detected.clear()


def _detect(mode: str, bwrap_setting: str, python_setting: str) -> Isolation:
    if mode not in MODES:
        return Isolation(
            mode=mode or "none",
            available=False,
            detail=(
                f"FLOWBUILDER_SCRIPT_ISOLATION={mode or '(empty)'} is refused: scripts never run without OS "
                "isolation. Use 'bubblewrap', or 'process' to accept a separate process with rlimits only."
            ),
        )
    # Never the host's root: bubblewrap maps the sandbox's uid to its caller's, and a process
    # whose uid is root, even without capabilities, passes file-permission checks on whatever
    # root-owned file it can reach (sysctls in /proc/sys, /proc/sysrq-trigger).
    run_as = NOBODY if os.geteuid() == 0 else None
    setpriv = shutil.which("setpriv") if run_as is not None else None
    python, problem = _choose_python(python_setting, run_as)
    if problem:
        return Isolation(mode=mode, available=False, detail=problem)
    who = "nobody" if run_as is not None else "the server's user"
    filtered = seccomp.filter_program() is not None
    if mode == PROCESS:
        return Isolation(
            mode=mode,
            available=True,
            python=python,
            run_as=run_as,
            setpriv=setpriv,
            seccomp=filtered,
            detail=(
                f"separate process as {who} with rlimits, an empty environment"
                f"{' and the seccomp filter' if filtered else ''} only: NO filesystem or network isolation "
                f"(install bubblewrap and unset FLOWBUILDER_SCRIPT_ISOLATION); interpreter {python}"
            ),
        )
    bwrap = shutil.which(bwrap_setting)
    if bwrap is None:
        return Isolation(
            mode=mode,
            available=False,
            detail=(
                f"bubblewrap is not installed ({bwrap_setting} not found): install it (apt-get install bubblewrap), "
                "or set FLOWBUILDER_SCRIPT_ISOLATION=process to run scripts with rlimits only"
            ),
        )
    problem, binds = _interpreter_binds(python)
    if problem:
        return Isolation(mode=mode, available=False, detail=problem)
    candidate = Isolation(
        mode=mode,
        available=True,
        detail="",
        python=python,
        bwrap=bwrap,
        binds=binds,
        hidden=_site_packages(python),
        seccomp=filtered,
        run_as=run_as,
        setpriv=setpriv,
    )
    failure = _probe(candidate)
    if failure:
        return Isolation(
            mode=mode,
            available=False,
            detail=(
                f"bubblewrap ({bwrap}) cannot create its sandbox here: {failure}. Allow user namespaces, or set "
                "FLOWBUILDER_SCRIPT_ISOLATION=process to run scripts with rlimits only"
            ),
        )
    version = _bwrap_version(bwrap)
    filter_note = "seccomp filter" if candidate.seccomp else "no seccomp filter (unknown architecture)"
    return replace(
        candidate,
        detail=(
            f"{version} ({bwrap}) started as {who}: new namespaces, no network, no server files, empty environment, "
            f"{filter_note}, rlimits; interpreter {python}"
        ),
    )


def sandbox_python() -> str:
    """The server's own interpreter: the real binary behind this (virtualenv's) one."""
    return os.path.realpath(sys.executable)


def _choose_python(setting: str, run_as: int | None) -> tuple[str, str | None]:
    """(the interpreter scripts run on, a problem or None).

    The setting if given; else the server's own interpreter, or, when the sandbox runs as
    nobody (a root server) and nobody cannot reach that one (a pyenv under /root), the
    system's ``/usr/bin/python3``: scripts use the standard library only, any Python 3 does.
    """
    candidates = [setting] if setting else [sandbox_python(), SYSTEM_PYTHON]
    for candidate in candidates:
        python = os.path.realpath(candidate)
        if os.path.isfile(python) and os.access(python, os.X_OK) and (run_as is None or _usable_by_others(python)):
            return python, None
    who = "the nobody user (the server runs as root)" if run_as is not None else "the server's user"
    return "", (
        f"no script interpreter that {who} can run: tried {', '.join(candidates)}; "
        "set FLOWBUILDER_SCRIPT_PYTHON to one (e.g. /usr/bin/python3)"
    )


def _usable_by_others(python: str) -> bool:
    """Whether a user owning nothing on its way can reach and run ``python`` (every directory above searchable)."""
    path = Path(python)
    try:
        if not all(directory.stat().st_mode & stat.S_IXOTH for directory in path.parents):
            return False
        mode = path.stat().st_mode
    except OSError:
        return False
    return bool(mode & stat.S_IXOTH and mode & stat.S_IROTH)


def _interpreter_binds(python: str) -> tuple[str | None, tuple[str, ...]]:
    """(a problem, or None; the installation to bind read-only unless it lives under /usr)."""
    prefix = Path(python).parent.parent
    if prefix == Path("/usr") or Path("/usr") in prefix.parents:
        return None, ()
    private = [Path(settings.BASE_DIR).resolve(), Path(settings.DATA_DIR).resolve()]
    for path in private:
        if prefix == path or prefix in path.parents or path in prefix.parents or prefix == Path("/"):
            return (
                f"the script interpreter's installation {prefix} contains or lies inside {path}, which scripts "
                "must not see: set FLOWBUILDER_SCRIPT_PYTHON to an interpreter installed elsewhere (e.g. /usr/bin/python3)",
                (),
            )
    return None, (str(prefix),)


def _site_packages(python: str) -> tuple[str, ...]:
    """Third-party package directories of the installation: hidden (``-S`` keeps them off sys.path too)."""
    prefix = Path(python).parent.parent
    candidates = [*prefix.glob("lib/python3*/site-packages"), *prefix.glob("local/lib/python3*/dist-packages")]
    candidates += [prefix / "lib/python3/dist-packages"]
    return tuple(str(path) for path in candidates if path.is_dir())


def _probe(candidate: Isolation) -> str | None:
    """Start one real sandbox running ``pass``; answers why it failed, or None."""
    filter_fd = seccomp.program_fd()
    argv = candidate.command(result_fd=1, seccomp_fd=filter_fd)
    argv[-3:] = ["-c", "pass"]  # the launcher's source and its fd: not needed to prove the sandbox starts
    try:
        completed = subprocess.run(  # noqa: S603  (argv built above from settings, no shell)
            argv,
            env=SANDBOX_ENV,
            capture_output=True,
            timeout=PROBE_TIMEOUT,
            cwd="/",
            check=False,
            pass_fds=() if filter_fd is None else (filter_fd,),
            **candidate.popen_kwargs(),
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"{type(exc).__name__}: {exc}"
    finally:
        if filter_fd is not None:
            os.close(filter_fd)
    if completed.returncode != 0:
        message = completed.stderr.decode(errors="replace").strip() or f"exit status {completed.returncode}"
        return message[-500:]
    return None


def _bwrap_version(bwrap: str) -> str:
    try:
        completed = subprocess.run(  # noqa: S603
            [bwrap, "--version"], env=SANDBOX_ENV, capture_output=True, timeout=PROBE_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return "bubblewrap"
    return completed.stdout.decode(errors="replace").strip() or "bubblewrap"
