"""``script``: run Python code on the step's inputs, in an isolated process.

The code runs in a sandbox (:mod:`executions.engine.sandbox`): a separate process
under bubblewrap (or, when chosen explicitly, a plain process with rlimits) that
sees only the standard library, the dict ``inputs`` and an empty ``/tmp``. Its
``print`` lines become the step's log lines; the value it assigns to ``output``
(JSON) becomes the step's output. Scripts have no side effects outside their
sandbox, so dry runs run them for real.

``files`` hands it uploaded files of the run's owner, by name
(``{"doc": "{{ input.file.id }}"}``): the script reads
``files["doc"]["bytes"]`` (with ``name``, ``content_type``, ``size``, ``id``),
all of them together at most ``FLOWBUILDER_NODE_FILE_MAX_BYTES``
(:mod:`executions.engine.files`).
"""

from __future__ import annotations

from executions.engine import files as engine_files
from executions.engine import sandbox
from executions.engine.nodes._schema import FILE_REF, TEXT, config_schema, dynamic, integer, prop
from executions.engine.registry import register
from executions.engine.sandbox.isolation import PROCESS
from executions.engine.types import NodeCategory, NodeContext, NodeError, NodeResult, NodeType

DEFAULT_TIMEOUT_SECONDS = 30
DEFAULT_MEMORY_MB = 256
MAX_FILES = 20


def execute(ctx: NodeContext) -> NodeResult:
    """Runs the code once in a fresh sandbox.

    Raises a non-retryable NodeError when scripts may not run here (no isolation) or
    the script fails (its traceback, trimmed to its own lines, is the message); a
    timeout or a sandbox that could not start is retryable under the node's policy.
    """
    timeout = float(ctx.config.get("timeout_seconds", DEFAULT_TIMEOUT_SECONDS))
    if ctx.timeout:  # the node's own timeout_seconds, if tighter
        timeout = min(timeout, float(ctx.timeout))
    files = _files(ctx)
    try:
        result = sandbox.run_script(
            ctx.config["code"],
            ctx.config.get("inputs") or {},
            timeout_seconds=timeout,
            memory_mb=int(ctx.config.get("memory_mb", DEFAULT_MEMORY_MB)),
            files=files,
        )
    except sandbox.IsolationUnavailable as exc:
        raise NodeError(exc.message, retryable=False) from None
    except sandbox.ScriptError as exc:
        if exc.result is not None:
            _log_prints(ctx, exc.result)
        raise NodeError(exc.message, retryable=exc.retryable) from None
    _log_prints(ctx, result)
    for line in result.stderr_lines:
        ctx.log("warning", line)
    return NodeResult(output=result.output)


def _files(ctx: NodeContext) -> dict[str, sandbox.SandboxFile]:
    """The files ``config.files`` names, read for the run's owner (raises NodeError, see engine/files.py)."""
    references = ctx.config.get("files") or {}
    if not isinstance(references, dict):
        raise NodeError("config.files: expected an object of name → file id", retryable=False)
    read = engine_files.read_files(ctx, [(f"config.files.{name}", ref) for name, ref in references.items()])
    return {
        str(name): {
            "id": info.id,
            "name": info.name,
            "content_type": info.content_type,
            "size": len(data),
            "bytes": data,
        }
        for name, (info, data) in zip(references, read, strict=True)
    }


def _log_prints(ctx: NodeContext, result: sandbox.ScriptResult) -> None:
    if result.isolation is not None and result.isolation.mode == PROCESS:
        ctx.log(
            "warning",
            "This script ran with FLOWBUILDER_SCRIPT_ISOLATION=process: a separate process with rlimits and an "
            "empty environment, but no filesystem or network isolation",
        )
    for line in result.stdout_lines:
        ctx.log("info", line)
    for note in result.notes:
        ctx.log("warning", note)


NODE_TYPE = register(
    NodeType(
        type="script",
        label="Python Script",
        description=(
            "Runs Python code in an isolated process: it reads the dict `inputs` (and uploaded files in `files`) "
            "and assigns `output`."
        ),
        category=NodeCategory.DATA,
        config_schema=config_schema(
            {
                "code": prop(
                    "Code",
                    "Python code (standard library only); reads `inputs` (also named `input`) and `files`, assigns `output` (JSON); "
                    "print() lines become logs. Not a template.",
                    {**TEXT, "contentMediaType": "text/x-python"},
                    examples=["output = {'total': sum(inputs['prices'])}"],
                ),
                "inputs": prop(
                    "Inputs",
                    "The `inputs` dict the code sees; values may be templates such as {{ steps.fetch.output.body }}.",
                    dynamic({"type": "object"}),
                    default={},
                ),
                "files": prop(
                    "Files",
                    "Uploaded files the code reads, by name: the dict `files` maps each name to {name, "
                    "content_type, size, bytes, id}. Values are file ids or templates such as "
                    "{{ input.file.id }}; only the workflow owner's files, at most "
                    "FLOWBUILDER_NODE_FILE_MAX_BYTES (10 MB) in all.",
                    dynamic({"type": "object", "maxProperties": MAX_FILES, "additionalProperties": FILE_REF}),
                    default={},
                    examples=[{"doc": "{{ input.file.id }}"}],
                ),
                "timeout_seconds": prop(
                    "Timeout (seconds)",
                    "Wall-time limit of the script.",
                    dynamic(integer(1, 300)),
                    default=DEFAULT_TIMEOUT_SECONDS,
                ),
                "memory_mb": prop(
                    "Memory (MB)",
                    "Memory the script may allocate on top of the interpreter's own.",
                    dynamic(integer(16, 1024)),
                    default=DEFAULT_MEMORY_MB,
                ),
            },
            required=("code",),
        ),
        raw_fields=frozenset({"code"}),
        execute=execute,
    )
)
