"""The script sandbox against real probes: what a script can compute, and what it must not reach.

Every test runs real sandboxes (bubblewrap here and in CI; `.ci/run` installs it).
Probes report what they saw as their output, or fail; either way nothing of the
server (environment, files, database, network) may show up.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.conf import settings as django_settings

from executions.engine import sandbox
from executions.engine.sandbox import isolation, pool
from executions.engine.sandbox.seccomp import filter_program
from tests.engine_fixtures import wait_for

SECRET = "do-not-leak-8f3c1e"
FIB = """
def fib(n):
    return n if n < 2 else fib(n - 1) + fib(n - 2)

output = fib(inputs["n"])
"""


@pytest.fixture(autouse=True)
def _fresh_sandboxes(monkeypatch):
    """A secret in the server's environment, planted before any sandbox of the test starts."""
    monkeypatch.setenv("FLOWBUILDER_TEST_SECRET", SECRET)
    sandbox.reset()
    yield
    sandbox.reset()


def run(code: str, inputs: dict | None = None, *, timeout: float = 10, memory_mb: int = 256) -> sandbox.ScriptResult:
    return sandbox.run_script(code, inputs or {}, timeout_seconds=timeout, memory_mb=memory_mb)


def fails(code: str, **kwargs) -> sandbox.ScriptError:
    with pytest.raises(sandbox.ScriptError) as caught:
        run(code, **kwargs)
    return caught.value


def test_bubblewrap_is_the_isolation_in_force():
    found = sandbox.current_isolation()
    assert (found.mode, found.available) == ("bubblewrap", True), found.detail
    assert "no network" in found.detail
    # The seccomp filter knows x86_64 and aarch64, the machines this runs on.
    assert found.seccomp is True
    assert filter_program() is not None


class TestComputing:
    def test_fib_10(self):
        result = run(FIB, {"n": 10})
        assert result.output == 55
        assert result.stdout_lines == []

    def test_print_lines_come_back_in_order_and_apart_from_the_output(self):
        result = run("for i in range(3):\n    print('line', i)\noutput = {'done': True}")
        assert result.stdout_lines == ["line 0", "line 1", "line 2"]
        assert result.output == {"done": True}

    def test_inputs_arrive_as_json_values(self):
        inputs = {"text": "héllo", "items": [1, 2.5, None, True], "nested": {"a": {"b": "c"}}}
        assert run("output = inputs", inputs).output == inputs

    def test_no_output_assigned_is_null(self):
        assert run("x = 1").output is None

    def test_the_standard_library_is_there(self):
        code = "import json, re, math, datetime, hashlib\noutput = hashlib.sha256(b'x').hexdigest()[:8]"
        assert run(code).output == "2d711642"

    def test_stderr_of_a_successful_script_is_kept(self):
        result = run("import sys\nsys.stderr.write('careful\\n')\noutput = 1")
        assert (result.output, result.stderr_lines) == (1, ["careful"])

    def test_sys_exit_0_keeps_the_output(self):
        assert run("import sys\noutput = 7\nsys.exit(0)").output == 7

    def test_too_much_printing_is_capped(self):
        result = run("for i in range(2000):\n    print(i)\noutput = 1")
        assert result.output == 1
        assert len(result.stdout_lines) == sandbox.MAX_LOG_LINES
        assert result.notes == ["1,500 more lines of output were dropped"]


class TestFailures:
    def test_syntax_error_names_the_line(self):
        error = fails("x = 1\ny = (\n")
        assert 'File "<script>", line 2' in error.message
        assert "SyntaxError" in error.message
        assert error.retryable is False

    def test_exception_traceback_is_trimmed_to_the_script(self):
        error = fails("def half(x):\n    return x / 0\n\nhalf(inputs['n'])", inputs={"n": 1})
        assert error.message.startswith("Traceback (most recent call last):")
        assert 'File "<script>", line 4, in <module>' in error.message
        assert 'File "<script>", line 2, in half' in error.message
        assert error.message.rstrip().endswith("ZeroDivisionError: division by zero")
        assert "launcher" not in error.message
        assert "executions" not in error.message
        assert error.retryable is False

    def test_prints_before_a_failure_are_kept(self):
        error = fails("print('about to fail')\nraise ValueError('bad value')")
        assert "ValueError: bad value" in error.message
        assert error.result.stdout_lines == ["about to fail"]

    def test_output_must_be_json(self):
        assert "not JSON-serialisable" in fails("output = {1, 2}").message
        assert "not JSON-serialisable" in fails("output = float('nan')").message

    def test_output_size_is_capped(self, settings):
        settings.FLOWBUILDER_MAX_STEP_OUTPUT_BYTES = 1000
        assert "the limit is 1,000" in fails("output = 'x' * 5000").message

    def test_exit_status(self):
        assert fails("raise SystemExit(3)").message == "The script exited with status 3"

    def test_ending_its_own_process_is_no_result(self):
        assert "without a result" in fails("import os\noutput = 1\nos._exit(0)").message


class TestProbes:
    """Each must fail safely (or see nothing) and leak nothing."""

    def test_environment_is_empty(self):
        env = run("import os\noutput = dict(os.environ)").output
        assert set(env) <= {"PATH", "LANG", "PWD"}
        assert SECRET not in str(env)

    def test_no_process_environment_leaks_through_proc(self):
        code = (
            "import os\n"
            "found = {}\n"
            "for pid in (p for p in os.listdir('/proc') if p.isdigit()):\n"
            "    try:\n"
            "        found[pid] = open(f'/proc/{pid}/environ', 'rb').read().decode()\n"
            "    except OSError as exc:\n"
            "        found[pid] = str(exc)\n"
            "output = found\n"
        )
        seen = run(code).output
        assert "1" in seen  # /proc/1 is the sandbox's own init, not the host's
        assert len(seen) <= 3  # only the sandbox's processes are visible
        assert all(SECRET not in value and "FLOWBUILDER" not in value for value in seen.values())
        assert "DATABASE_URL" not in str(seen)

    def test_proc_1_environ(self):
        environ = run("output = open('/proc/1/environ', 'rb').read().decode()").output
        assert SECRET not in environ
        assert set(filter(None, environ.split("\0"))) <= {"PATH=/usr/bin:/bin", "LANG=C.UTF-8"}

    def test_project_files_are_not_there(self):
        paths = [
            str(Path(django_settings.BASE_DIR) / "flowbuilder" / "settings.py"),
            "/work/main/flowbuilder/settings.py",
            str(Path(django_settings.DATA_DIR)),
            "/root/.bashrc",
            "/home",
        ]
        code = (
            "import os\n"
            "output = {p: os.path.exists(p) for p in inputs['paths']}\n"
            "output['/'] = sorted(os.listdir('/'))\n"
            "output['/root'] = sorted(os.listdir('/root')) if os.path.isdir('/root') else []\n"
        )
        seen = run(code, {"paths": paths}).output
        assert {p: seen[p] for p in paths} == dict.fromkeys(paths, False)
        assert set(seen["/"]) <= {"usr", "bin", "sbin", "lib", "lib32", "lib64", "etc", "proc", "dev", "tmp", "root"}
        assert seen["/root"] in ([], [".pyenv"])  # at most the way to an interpreter's installation
        error = fails("open(inputs['p']).read()", inputs={"p": paths[0]})
        assert "FileNotFoundError" in error.message

    def test_project_settings_cannot_be_imported(self):
        assert "ModuleNotFoundError: No module named 'flowbuilder'" in fails("import flowbuilder.settings").message
        # Nor anything installed next to the server: site-packages are hidden.
        assert "ModuleNotFoundError: No module named 'django'" in fails("import django").message

    def test_etc_shadow(self):
        assert "FileNotFoundError" in fails("open('/etc/shadow').read()").message

    def test_postgres_is_unreachable(self):
        database = django_settings.DATABASES["default"]
        host, port = database.get("HOST") or "127.0.0.1", int(database.get("PORT") or 5432)
        socket.create_connection((host, port), timeout=5).close()  # it is there, for the server
        code = "import socket\nsocket.create_connection((inputs['host'], inputs['port']), timeout=3)"
        error = fails(code, inputs={"host": host, "port": port})
        assert "ConnectionRefusedError" in error.message or "OSError" in error.message

    def test_a_local_http_server_is_unreachable(self):
        hits = []

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):
                hits.append(self.path)
                self.send_response(200)
                self.end_headers()

            def log_message(self, *args):
                return

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            url = f"http://127.0.0.1:{server.server_address[1]}/leak"
            code = "import urllib.request\noutput = urllib.request.urlopen(inputs['url'], timeout=3).status"
            error = fails(code, inputs={"url": url})
        finally:
            server.shutdown()
            server.server_close()
        assert "Connection refused" in error.message
        assert hits == []

    def test_no_route_out(self):
        code = "import socket\nsocket.create_connection(('192.0.2.1', 80), timeout=3)"
        assert "Network is unreachable" in fails(code).message

    def test_infinite_loop_is_killed_by_the_timeout(self):
        error = fails("print('spinning')\nwhile True:\n    pass", timeout=1)
        assert error.message == "The script timed out after 1 s and was stopped"
        assert error.retryable is True
        assert error.result.stdout_lines == ["spinning"]  # what it printed before is kept

    def test_4_gb_allocation(self):
        error = fails("data = bytearray(4 * 1024 ** 3)", memory_mb=64)
        assert "MemoryError" in error.message
        assert "its limit is 64 MB" in error.message

    def test_fork_bomb_is_bounded(self):
        code = (
            "import os\n"
            "forks = 0\n"
            "try:\n"
            "    while True:\n"
            "        if os.fork() == 0:\n"
            "            while True:\n"
            "                pass\n"
            "        forks += 1\n"
            "except OSError as exc:\n"
            "    error = str(exc)\n"
            "pids = [p for p in os.listdir('/proc') if p.isdigit()]\n"
            "output = {'forks': forks, 'error': error, 'processes': len(pids)}\n"
        )
        seen = run(code, timeout=10).output
        # The seccomp filter refuses every new process (RLIMIT_NPROC alone would stop it at 16,
        # but the kernel does not apply it when the server, hence the sandbox's real uid, is root).
        assert seen == {"forks": 0, "error": "[Errno 1] Operation not permitted", "processes": 2}

    def test_subprocesses_cannot_start(self):
        error = fails("import subprocess\nsubprocess.run(['/bin/true'])")
        assert "PermissionError: [Errno 1] Operation not permitted" in error.message

    def test_threads_still_work(self):
        code = (
            "import threading\n"
            "found = []\n"
            "workers = [threading.Thread(target=found.append, args=(i,)) for i in range(4)]\n"
            "[w.start() for w in workers]\n"
            "[w.join() for w in workers]\n"
            "output = sorted(found)\n"
        )
        assert run(code).output == [0, 1, 2, 3]

    def test_huge_file_hits_the_file_size_limit(self):
        code = "with open('/tmp/big', 'wb') as f:\n    while True:\n        f.write(b'x' * 2 ** 20)"
        assert "File too large" in fails(code).message

    def test_runs_as_nobody_without_capabilities(self):
        code = (
            "import os\n"
            "status = dict(line.split(':', 1) for line in open('/proc/self/status').read().splitlines())\n"
            "output = {'uid': os.getuid(), 'caps': status['CapEff'].strip(),\n"
            "          'no_new_privs': status['NoNewPrivs'].strip(), 'seccomp': status['Seccomp'].strip()}\n"
        )
        seen = run(code).output
        assert seen == {"uid": 65534, "caps": "0000000000000000", "no_new_privs": "1", "seccomp": "2"}

    def test_without_setpriv_the_sandbox_still_starts_as_nobody(self, settings, monkeypatch):
        settings.FLOWBUILDER_SCRIPT_BWRAP = shutil.which("bwrap")
        monkeypatch.setenv("PATH", "/nonexistent")  # no setpriv: subprocess switches the user itself
        found = sandbox.current_isolation()
        assert found.setpriv is None
        assert found.available, found.detail
        self.test_no_sandbox_process_is_host_root()

    def test_kernel_knobs_are_read_only(self):
        code = (
            "import os\n"
            "knob = '/proc/sys/kernel/printk_ratelimit'\n"
            "value = open(knob).read()\n"
            "found = {p: os.access(p, os.W_OK) for p in (knob, '/proc/sysrq-trigger', '/proc/sys/kernel/core_pattern')}\n"
            "try:\n"
            "    with open(knob, 'w') as f:\n"
            "        f.write(value)  # the same value: harmless if it ever got through\n"
            "    found['write'] = 'written'\n"
            "except OSError as exc:\n"
            "    found['write'] = exc.strerror\n"
            "output = found\n"
        )
        seen = run(code).output
        assert seen.pop("write") in ("Read-only file system", "Permission denied")
        assert not any(seen.values())

    def test_no_sandbox_process_is_host_root(self):
        from executions.engine.sandbox.process import Limits, Sandbox

        box = Sandbox.start(sandbox.current_isolation())
        try:
            wait_for(lambda: len(_tree(box.process.pid)) >= 3)  # bwrap, its init in the sandbox, python
            uids = {pid: _uid(pid) for pid in _tree(box.process.pid)}
        finally:
            box.run({"code": "output = 1", "inputs": {}, "limits": Limits(5).for_launcher()}, Limits(5))
        expected = 65534 if os.geteuid() == 0 else os.geteuid()
        assert set(uids.values()) == {expected}, uids

    def test_the_interpreter_is_read_only(self):
        error = fails("import os\nopen(os.__file__, 'a').write('# owned')")
        assert "Read-only file system" in error.message or "Permission denied" in error.message

    def test_no_file_descriptors_of_the_server(self):
        code = "import os\noutput = sorted(int(fd) for fd in os.listdir('/proc/self/fd'))"
        fds = run(code).output
        assert len(fds) <= 5  # stdin, stdout, stderr, the result pipe, and listdir's own


class TestWithoutPidfd:
    """Kernels before 5.3 (or other systems) have no pidfd: the run loop polls the process instead."""

    def started(self, code: str, timeout: float):
        from executions.engine.sandbox.process import Limits, Sandbox

        box = Sandbox.start(sandbox.current_isolation())
        os.close(box.pidfd)
        box.pidfd = None
        limits = Limits(timeout)
        return box.run({"code": code, "inputs": {"n": 10}, "limits": limits.for_launcher()}, limits)

    def test_result(self):
        completed = self.started(FIB + "print('done')", timeout=10)
        assert (completed.returncode, completed.result, completed.stdout) == (0, b"55", b"done\n")

    def test_timeout(self):
        completed = self.started("while True:\n    pass", timeout=1)
        assert completed.timed_out
        assert completed.signal == signal.SIGKILL


class TestWarmPool:
    def test_a_warm_sandbox_serves_one_run_only(self, settings):
        settings.FLOWBUILDER_SCRIPT_WARM_POOL = 2
        code = (
            "import os\n"
            "seen = os.path.exists('/tmp/marker')\n"
            "open('/tmp/marker', 'w').write('x')\n"
            "output = {'seen': seen, 'state': globals().get('state')}\n"
            "state = 'left behind'\n"
        )
        first = run(code)  # cold: the pool starts filling
        wait_for(lambda: pool.get().ready >= 2)
        second, third = run(code), run(code)
        assert (second.warm, third.warm) == (True, True)
        assert [r.output for r in (first, second, third)] == [{"seen": False, "state": None}] * 3

    def test_warm_sandboxes_see_no_environment_either(self, settings):
        settings.FLOWBUILDER_SCRIPT_WARM_POOL = 1
        run("output = 1")
        wait_for(lambda: pool.get().ready >= 1)
        result = run("import os\noutput = [dict(os.environ), open('/proc/1/environ').read()]")
        assert result.warm
        assert SECRET not in str(result.output)

    def test_no_pool(self, settings):
        settings.FLOWBUILDER_SCRIPT_WARM_POOL = 0
        assert [run("output = 1").warm for _ in range(2)] == [False, False]
        assert pool.get().ready == 0


class TestProcessMode:
    @pytest.fixture(autouse=True)
    def _process_mode(self, settings):
        settings.FLOWBUILDER_SCRIPT_ISOLATION = "process"

    def test_says_what_it_is(self):
        found = sandbox.current_isolation()
        assert (found.mode, found.available) == ("process", True)
        assert "NO filesystem or network isolation" in found.detail

    def test_runs_scripts_with_an_empty_environment(self):
        result = run(FIB + "print('fib done')\nimport os\noutput = [output, dict(os.environ)]", {"n": 10})
        assert result.output[0] == 55
        assert SECRET not in str(result.output[1])
        assert set(result.output[1]) <= {"PATH", "LANG", "TMPDIR", "PWD"}
        assert result.stdout_lines == ["fib done"]

    def test_timeout(self):
        error = fails("while True:\n    pass", timeout=1)
        assert error.message == "The script timed out after 1 s and was stopped"

    def test_new_processes_are_refused_here_too(self):
        # The launcher installs the same seccomp filter: a fork bomb stops at its first fork.
        code = "import os\nos.fork()"
        error = fails(code)
        assert "PermissionError: [Errno 1] Operation not permitted" in error.message

    def test_memory_limit(self):
        assert "MemoryError" in fails("data = bytearray(4 * 1024 ** 3)", memory_mb=64).message

    def test_runs_as_nobody_under_root(self):
        uid = run("import os\noutput = os.getuid()").output
        assert uid == (65534 if os.geteuid() == 0 else os.geteuid())


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants, from /proc."""
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        found.append(current)
        with contextlib.suppress(OSError):  # it ended meanwhile
            todo += [int(c) for c in Path(f"/proc/{current}/task/{current}/children").read_text().split()]
    return found


def _uid(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line for line in status.splitlines() if line.startswith("Uid:")).split()[1])


@pytest.fixture
def public_dir():
    """A directory the nobody user can reach (pytest's tmp_path is private to root): sandboxes start as nobody."""
    path = Path(tempfile.mkdtemp(prefix="flowbuilder-test-"))
    path.chmod(0o755)
    yield path
    shutil.rmtree(path)


class TestRefusal:
    def test_missing_bubblewrap_refuses_to_run(self, settings):
        settings.FLOWBUILDER_SCRIPT_BWRAP = "/nonexistent/bwrap"
        found = sandbox.current_isolation()
        assert not found.available
        with pytest.raises(sandbox.IsolationUnavailable) as caught:
            run("output = 1")
        assert "bubblewrap is not installed (/nonexistent/bwrap not found)" in caught.value.message
        assert "FLOWBUILDER_SCRIPT_ISOLATION=process" in caught.value.message
        assert caught.value.retryable is False

    def test_a_bubblewrap_that_cannot_sandbox_refuses_to_run(self, settings, public_dir):
        fake = public_dir / "bwrap"
        fake.write_text("#!/bin/sh\necho 'bwrap: No permissions to creating new namespace' >&2\nexit 1\n")
        fake.chmod(0o755)
        settings.FLOWBUILDER_SCRIPT_BWRAP = str(fake)
        with pytest.raises(sandbox.IsolationUnavailable) as caught:
            run("output = 1")
        assert "cannot create its sandbox here: bwrap: No permissions to creating new namespace" in (
            caught.value.message
        )

    @pytest.mark.parametrize("mode", ["none", "off", ""])
    def test_no_isolation_is_refused(self, settings, mode):
        settings.FLOWBUILDER_SCRIPT_ISOLATION = mode
        with pytest.raises(sandbox.IsolationUnavailable) as caught:
            run("output = 1")
        assert "is refused: scripts never run without OS isolation" in caught.value.message

    def test_an_interpreter_inside_the_data_directory_is_refused(self, settings, public_dir):
        python = public_dir / "python" / "bin" / "python3"
        python.parent.mkdir(parents=True)
        python.write_text("#!/bin/sh\n")
        (public_dir / "python").chmod(0o755)
        python.parent.chmod(0o755)
        python.chmod(0o755)
        settings.DATA_DIR = public_dir
        settings.FLOWBUILDER_SCRIPT_PYTHON = str(python)
        found = isolation.current()
        assert not found.available
        assert f"{public_dir / 'python'} contains or lies inside {public_dir}" in found.detail

    def test_an_interpreter_nobody_can_reach_is_refused_for_nobody(self, tmp_path):
        python = tmp_path / "python3"  # pytest's tmp_path is private to its owner
        python.write_text("#!/bin/sh\n")
        python.chmod(0o755)
        assert isolation._choose_python(str(python), None) == (str(python), None)
        chosen, problem = isolation._choose_python(str(python), isolation.NOBODY)
        assert chosen == ""
        assert "no script interpreter that the nobody user (the server runs as root) can run" in problem

    def test_without_the_setting_nobody_falls_back_to_the_system_python(self, monkeypatch, tmp_path):
        private = tmp_path / "python3"
        private.write_text("#!/bin/sh\n")
        private.chmod(0o755)
        monkeypatch.setattr(isolation, "sandbox_python", lambda: str(private))
        assert isolation._choose_python("", None) == (str(private), None)
        assert isolation._choose_python("", isolation.NOBODY) == (os.path.realpath(isolation.SYSTEM_PYTHON), None)

    def test_detection_happens_once_per_settings(self, settings, monkeypatch):
        first = sandbox.current_isolation()
        monkeypatch.setattr(isolation, "_detect", lambda *args: pytest.fail("detected twice"))
        assert sandbox.current_isolation() is first
