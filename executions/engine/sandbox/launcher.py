"""The program the sandboxed interpreter runs (``python -I -S -c <this file's text> RESULT_FD``).

It runs INSIDE the sandbox, so it imports nothing from the project, only the standard
library, and it trusts nothing it was not handed. Protocol with the parent
(:mod:`executions.engine.sandbox.process`):

* it starts, imports what it needs, then blocks reading its whole stdin: one request
  ``{"code", "inputs", "limits": {...}, "seccomp": bytes | None, "files"?: {name: {..., "bytes": bytes}}}``
  in ``marshal`` format (written by the trusted parent; JSON values, and the files' bytes as
  ``bytes``: marshal carries them as they are, so no decoding module is imported). A warm
  sandbox waits here; EOF without a request (the parent went away) ends it quietly;
* it applies the limits to itself (rlimits are inherited by anything it could start),
  installs ``seccomp`` when given (in ``process`` mode; bubblewrap installs it itself),
  closes every other file descriptor, and runs ``code`` with the dicts ``inputs`` and ``files``
  (name → ``{"id", "name", "content_type", "size", "bytes"}``; empty without files) in scope;
* ``output`` is written as JSON to ``RESULT_FD`` (a pipe only the parent reads), never
  to stdout, which stays the script's own (its lines become log lines); the parent
  parses it as JSON, with a size cap, never with anything that could run code;
* exit status 0: success (the result is on ``RESULT_FD``); 3: the script failed, the
  message (a traceback trimmed to the script's own frames) is on stderr; 4: a bad
  request. Anything else is the sandbox failing or a signal.
"""

# Only cheap modules: ``json`` would import ``re``, ``enum`` and more, about half of a cold
# start. The request comes in marshal format and the output is encoded by _json's C encoder.
import marshal
import os
import resource
import sys

try:
    import _json
except ImportError:  # an interpreter without the accelerator: json is imported when needed
    _json = None

SCRIPT_FILENAME = "<script>"
EXIT_SCRIPT_FAILED = 3
EXIT_BAD_REQUEST = 4


def _apply_limits(limits):
    """Lower soft and hard limits together (never above a hard limit already lower), for good."""
    used = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(used.ru_utime + used.ru_stime) + int(limits["cpu_seconds"]) + 1
    # The interpreter is already loaded: the script's memory limit comes on top of it.
    try:
        with open("/proc/self/statm") as statm:
            baseline = int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:  # no /proc (process mode elsewhere than Linux): a typical interpreter's size
        baseline = 64 * 2**20
    for name, soft, hard in (
        ("RLIMIT_CPU", cpu, cpu + 1),  # SIGXCPU, then SIGKILL a second later
        ("RLIMIT_AS", baseline + int(limits["memory_bytes"]), baseline + int(limits["memory_bytes"])),
        ("RLIMIT_NPROC", limits["processes"], limits["processes"]),
        ("RLIMIT_FSIZE", limits["file_bytes"], limits["file_bytes"]),
        ("RLIMIT_NOFILE", limits["open_files"], limits["open_files"]),
        ("RLIMIT_CORE", 0, 0),
    ):
        which = getattr(resource, name)
        current = resource.getrlimit(which)[1]
        if current != resource.RLIM_INFINITY:
            hard = min(hard, current)
            soft = min(soft, hard)
        resource.setrlimit(which, (soft, hard))


def _install_seccomp(program):
    """Load a seccomp-BPF ``program`` (``struct sock_filter[]`` bytes) for this process and its threads."""
    import ctypes

    class SockFprog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    libc = ctypes.CDLL(None, use_errno=True)
    buffer = ctypes.create_string_buffer(program, len(program))
    fprog = SockFprog(len(program) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    pr_set_no_new_privs, pr_set_seccomp, seccomp_mode_filter = 38, 22, 2
    if libc.prctl(pr_set_no_new_privs, 1, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NO_NEW_PRIVS)")
    if libc.prctl(pr_set_seccomp, seccomp_mode_filter, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP)")


def _describe_failure(exc, code, limits):
    import linecache
    import traceback

    linecache.cache[SCRIPT_FILENAME] = (len(code), None, code.splitlines(True), SCRIPT_FILENAME)
    frames = [frame for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == SCRIPT_FILENAME]
    lines = ["Traceback (most recent call last):\n", *traceback.format_list(frames)] if frames else []
    lines += traceback.format_exception_only(type(exc), exc)
    if isinstance(exc, MemoryError):
        lines.append(f"The script ran out of memory (its limit is {limits['memory_bytes'] // 2**20} MB).\n")
    return "".join(lines)


def _not_json(value):
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _to_json(value):
    """Compact JSON, no NaN or infinities: what ``json.dumps(allow_nan=False)`` gives, without importing json."""
    try:
        encoder = _json.make_encoder({}, _not_json, _json.encode_basestring_ascii, None, ":", ",", False, False, False)
    except (AttributeError, TypeError):  # no accelerator, or its internal signature changed
        import json

        return json.dumps(value, allow_nan=False, separators=(",", ":"))
    return "".join(encoder(value, 0))


def _fail(message):
    sys.stderr.write(message if message.endswith("\n") else message + "\n")
    sys.stderr.flush()
    os._exit(EXIT_SCRIPT_FAILED)


def main():
    result_fd = int(sys.argv[1])
    raw = sys.stdin.buffer.read()
    if not raw:
        os._exit(0)  # a warm sandbox nobody used: the parent is gone or shutting down
    try:
        request = marshal.loads(raw)  # noqa: S302  (written by the parent, which trusts itself)
        code, inputs, limits = request["code"], request["inputs"], request["limits"]
    except (ValueError, EOFError, KeyError, TypeError) as exc:
        sys.stderr.write(f"bad request: {exc}\n")
        os._exit(EXIT_BAD_REQUEST)
    del raw
    _apply_limits(limits)
    if request.get("seccomp"):
        try:
            _install_seccomp(request["seccomp"])
        except (OSError, ImportError) as exc:
            sys.stderr.write(f"could not install the seccomp filter: {exc}\n")
            os._exit(EXIT_BAD_REQUEST)
    os.set_inheritable(result_fd, False)
    os.closerange(3, result_fd)  # nothing of the parent's stays reachable
    os.closerange(result_fd + 1, 1 << 20)
    sys.stdout.reconfigure(line_buffering=True)  # a script that times out still shows what it printed
    files = request.get("files") or {}
    # `input` is `inputs` by another name: the seeds' step-list scripts read input['step1'].
    namespace = {
        "__name__": "__main__",
        "__builtins__": __builtins__,
        "inputs": inputs,
        "input": inputs,
        "files": files,
    }
    try:
        exec(compile(code, SCRIPT_FILENAME, "exec"), namespace)  # noqa: S102  (this is the sandboxed script)
    except SystemExit as exc:
        if exc.code not in (None, 0):
            _fail(f"The script exited with status {exc.code}")
    except BaseException as exc:  # everything the script raises is its failure, reported to the parent
        _fail(_describe_failure(exc, code, limits))
    try:
        payload = _to_json(namespace.get("output")).encode()
    except (TypeError, ValueError, RecursionError) as exc:
        _fail(f"`output` is not JSON-serialisable: {exc}")
    if len(payload) > limits["output_bytes"]:
        _fail(f"`output` is {len(payload):,} bytes of JSON; the limit is {limits['output_bytes']:,}")
    sys.stdout.flush()
    sys.stderr.flush()
    view = memoryview(payload)
    while view:
        view = view[os.write(result_fd, view) :]
    os.close(result_fd)
    os._exit(0)


if __name__ == "__main__":
    main()
