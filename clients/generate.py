"""Regenerate what the client SDKs derive from the server: ``make clients-generate``.

1. ``clients/openapi.json``: the server's schema (``manage.py spectacular``), the one source of both SDKs;
2. ``clients/python/src/flowbuilder_client/models.py``: pydantic v2 models (datamodel-code-generator);
3. ``clients/python/src/flowbuilder_client/_sync/``: the sync client, from the asyncio one (unasync);
4. ``clients/typescript/src/schema.d.ts``: the TypeScript types (openapi-typescript).

``--check`` regenerates into a scratch directory and fails, naming the files, if a committed one differs:
the test suite runs it, so a server change that alters the schema cannot land without its SDK update.
"""

from __future__ import annotations

import argparse
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import unasync

ROOT = Path(__file__).resolve().parent.parent
CLIENTS = ROOT / "clients"
PACKAGE = Path("python/src/flowbuilder_client")
GENERATED = [
    Path("openapi.json"),
    PACKAGE / "models.py",
    PACKAGE / "_sync/__init__.py",
    PACKAGE / "_sync/_client.py",
    PACKAGE / "_sync/_resources.py",
    Path("typescript/src/schema.d.ts"),
]
# Names that differ between the asyncio client and its sync twin, besides unasync's own
# (async/await, __aenter__, AsyncIterator, ...).
SYNC_NAMES = {
    "AsyncFlowbuilder": "Flowbuilder",
    "AsyncClient": "Client",
    "asyncio": "sync",  # websockets.asyncio.client -> websockets.sync.client
    "async_sleep": "sync_sleep",
    "aclose": "close",
    "aread": "read",
}
HEADER = (
    "# Generated from ../_async/{name} by clients/generate.py (make clients-generate): edit that file, not this one.\n"
)


def run(*args: str | Path, cwd: Path = ROOT) -> None:
    subprocess.run([str(a) for a in args], cwd=cwd, check=True)  # noqa: S603 (our own tools)


def openapi(out: Path) -> None:
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "flowbuilder.settings"}
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "spectacular", "--format", "openapi-json", "--file", str(out), "--validate"],
        cwd=ROOT,
        env=env,
        check=True,
    )
    with out.open("a") as f:  # the command writes no final newline
        f.write("\n")


def models(schema: Path, out: Path) -> None:
    run(
        Path(sys.executable).with_name("datamodel-codegen"),
        "--input", schema,
        "--input-file-type", "openapi",
        "--output", out,
        "--output-model-type", "pydantic_v2.BaseModel",
        "--target-python-version", "3.10",  # the oldest it offers; Optional/List keep the models importable on 3.9
        "--no-use-union-operator",
        "--no-use-standard-collections",
        "--strict-nullable",
        "--extra-fields", "allow",  # a newer server's extra fields do not break an older client
        "--type-mappings", "string+email=string", "string+uri=string",  # plain str: no email-validator needed
        "--enum-field-as-literal", "all",
        "--collapse-root-models",
        "--field-constraints",  # Field(max_length=...) rather than constr(...): a type checker reads it
        "--use-schema-description",
        "--use-double-quotes",
        "--disable-timestamp",
        "--custom-file-header", '"""The API\'s models, generated from clients/openapi.json by clients/generate.py: do not edit."""',
        "--formatters", "isort",
    )  # fmt: skip
    run(Path(sys.executable).parent / "ruff", "format", "--quiet", "--config", CLIENTS / "python/pyproject.toml", out)


def sync_client(source: Path, out: Path) -> None:
    """Write the sync twin of ``source`` (the ``_async`` package) into ``out``."""
    with tempfile.TemporaryDirectory() as scratch:
        work = Path(scratch) / "_async"
        shutil.copytree(source, work, ignore=shutil.ignore_patterns("__pycache__"))
        files = sorted(str(p) for p in work.glob("*.py"))
        unasync.unasync_files(files, [unasync.Rule("/_async/", "/_sync/", additional_replacements=SYNC_NAMES)])
        out.mkdir(parents=True, exist_ok=True)
        for path in sorted((Path(scratch) / "_sync").glob("*.py")):
            text = path.read_text()
            (out / path.name).write_text(HEADER.format(name=path.name) + text if text else text)
    config = CLIENTS / "python/pyproject.toml"  # the same settings wherever ``out`` is
    run(
        Path(sys.executable).parent / "ruff",
        "check",
        "--quiet",
        "--fix",
        "--ignore",
        "UP006,UP035",
        "--config",
        config,
        out,
    )
    run(Path(sys.executable).parent / "ruff", "format", "--quiet", "--config", config, out)


def typescript(schema: Path, out: Path) -> None:
    ts = CLIENTS / "typescript"
    run(ts / "node_modules/.bin/openapi-typescript", schema, "--output", out, "--root-types", cwd=ts)


def generate(target: Path) -> None:
    """Write every generated file under ``target`` (laid out as ``clients/``)."""
    schema = target / "openapi.json"
    schema.parent.mkdir(parents=True, exist_ok=True)
    openapi(schema)
    (target / PACKAGE).mkdir(parents=True, exist_ok=True)
    models(schema, target / PACKAGE / "models.py")
    sync_client(CLIENTS / PACKAGE / "_async", target / PACKAGE / "_sync")
    (target / "typescript/src").mkdir(parents=True, exist_ok=True)
    typescript(schema, target / "typescript/src/schema.d.ts")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--check", action="store_true", help="fail if a committed generated file is stale")
    args = parser.parse_args()
    if not args.check:
        generate(CLIENTS)
        return 0
    with tempfile.TemporaryDirectory() as scratch:
        fresh = Path(scratch)
        generate(fresh)
        stale = [
            str(p)
            for p in GENERATED
            if not (CLIENTS / p).exists() or not filecmp.cmp(CLIENTS / p, fresh / p, shallow=False)
        ]
    if stale:
        sys.exit("Stale generated client files (run `make clients-generate` and commit them):\n  " + "\n  ".join(stale))
    return 0


if __name__ == "__main__":
    sys.exit(main())
