"""The import graph, checked: no cycles between modules, and the layers core ← engine ← apps.

Built with grimp (import-linter's graph library) from the source, so a new import that breaks a
rule fails here, with the offending import named.
"""

from __future__ import annotations

import grimp
import pytest

APPS = (
    "accounts",
    "analytics",
    "audit",
    "console",
    "executions",
    "files",
    "integrations",
    "monitoring",
    "nlparse",
    "templates_app",
    "webhooks",
    "workflows",
)
# The project's composition roots: they put the apps together, so they may import them.
CORE_ROOTS = {"flowbuilder.urls", "flowbuilder.routing", "flowbuilder.asgi", "flowbuilder.wsgi", "flowbuilder.celery"}
# What the engine may use outside itself and core: the rows it keeps runs in, where it publishes
# and signals their changes, and the outgoing transports its nodes talk through (each SSRF-guarded).
ENGINE_SEAMS = {
    "executions.models",
    "executions.broadcast",
    "executions.signals",
    "workflows.models",
    "integrations.ai",
    "integrations.http",
    "integrations.mail",
    "integrations.net",
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph("flowbuilder", *APPS)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for root in sorted(graph.modules):
        if root in index:
            continue
        work = [(root, iter(sorted(graph.find_modules_directly_imported_by(root))))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            module, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[module] = min(low[module], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[module])
            if low[module] == index[module]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == module:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles(graph):
    assert _cycles(graph) == []


def test_core_imports_no_app(graph):
    core = {"flowbuilder", *graph.find_descendants("flowbuilder")} - CORE_ROOTS
    wrong = sorted(
        (module, imported)
        for module in core
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] in APPS
    )
    assert wrong == []


def test_the_engine_uses_only_core_and_its_seams(graph):
    engine = {"executions.engine", *graph.find_descendants("executions.engine")}
    wrong = sorted(
        (module, imported)
        for module in engine
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.split(".")[0] in APPS and imported not in engine and imported not in ENGINE_SEAMS
    )
    assert wrong == []


def test_access_to_workflows_is_decided_in_one_place(graph):
    """Permissions on a workflow are computed only by workflows.access (workflow_for, execution_for): an
    endpoint that computed them itself could forget the visibility half or the API key's scopes."""
    assert graph.find_modules_that_directly_import("workflows.permissions") == {"workflows.access"}


def test_serializers_only_shape_data(graph):
    """Serializers read what views and selectors loaded; they run no queries of their own through
    selectors or services (which would hide N+1 queries and access decisions in rendering)."""
    serializers = {m for m in graph.modules if m.endswith(".serializers") and m.split(".")[0] in APPS}
    wrong = sorted(
        (module, imported)
        for module in serializers
        for imported in graph.find_modules_directly_imported_by(module)
        if imported.endswith((".selectors", ".services", ".access"))
    )
    assert serializers
    assert wrong == []


def test_row_changes_of_audited_models_are_not_also_recorded_by_hand():
    """One rule (audit.services): the registry records configuration rows' changes, services record
    actions. A service calling audit_record("workflow.updated", ...) would record a change twice."""
    import ast
    from pathlib import Path

    from audit.registry import AUDITED_MODELS

    root = Path(__file__).resolve().parent.parent
    names = {options["name"] for options in AUDITED_MODELS.values()}
    by_hand = []
    for path in root.glob("*/**/*.py"):
        if path.parts[len(root.parts)] in ("tests", ".venv", "bench") or "migrations" in path.parts:
            continue
        for call in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "audit_record"):
                continue
            for keyword in call.keywords:
                value = keyword.value
                if keyword.arg == "action" and isinstance(value, ast.Constant) and isinstance(value.value, str):
                    name, _, kind = value.value.rpartition(".")
                    if name in names and kind in ("created", "updated", "deleted"):
                        by_hand.append((str(path.relative_to(root)), value.value))
    assert by_hand == []


def test_the_cycle_check_sees_a_cycle():
    """The check itself: a graph with a cycle is reported."""
    graph = grimp.ImportGraph()
    for name in ("a", "a.b", "a.c"):
        graph.add_module(name)
    graph.add_import(importer="a.b", imported="a.c")
    graph.add_import(importer="a.c", imported="a.b")
    assert _cycles(graph) == [["a.b", "a.c"]]
