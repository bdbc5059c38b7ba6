"""Score the built-in parser on sentences written outside the project.

    python -m tests.nlparse.devset [PATH]    (default: tests/nlparse/dev_cases.json, a copy of
                                             ../shared/nl/dev_cases.json)

A case is right when the definition validates, the trigger type matches (and ``cron`` and
``timezone`` where the case gives them), and the action node types reached from the trigger,
in the order the engine runs them (ignoring ``output``, ``transform``, ``merge`` and
``webhook_response``), are the case's ``types`` (or, for ``types_any_order``, the same
multiset). A case with ``expect_error_or_warning`` is right when the parser answers 422 or
warns. Prints each miss and its category, then the score.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

IGNORED = {"output", "transform", "merge", "webhook_response"}
DEFAULT_PATH = Path(__file__).with_name("dev_cases.json")


def action_types(definition: dict[str, Any]) -> list[str]:
    from executions.engine.definition import Graph

    graph = Graph.from_definition(definition)
    types = []
    for node_id in graph.execution_order:
        node = graph.nodes[node_id]
        if node_id != graph.trigger.id and node.type not in IGNORED:
            types.append(node.type)
    return types


def score(case: dict[str, Any]) -> list[tuple[str, str]]:
    """What is wrong with the parse of ``case``, as (category, detail); empty when it is right."""
    from executions.engine.validation import validate_definition
    from flowbuilder.api.errors import ApplicationError
    from nlparse.parser import parse_text

    try:
        result = parse_text(case["text"])
    except ApplicationError as exc:
        if case.get("expect_error_or_warning"):
            return []
        return [("refused", f"{exc.code}: {exc.message} {exc.details}")]
    if case.get("expect_error_or_warning"):
        return [] if result.warnings else [("nonsense accepted", "no error and no warning")]
    problems: list[tuple[str, str]] = []
    definition = result.definition
    errors = validate_definition(definition).errors
    if errors:
        problems.append(("invalid", str(errors)))
    trigger = definition["nodes"][0]
    if trigger["type"] != case["trigger"]:
        problems.append(("trigger", f"{trigger['type']} != {case['trigger']}"))
    for key in ("cron", "timezone"):
        if key in case and trigger["config"].get(key) != case[key]:
            problems.append((key, f"{trigger['config'].get(key)!r} != {case[key]!r}"))
    types = action_types(definition)
    if "types" in case and types != case["types"]:
        problems.append(("steps", f"{types} != {case['types']}"))
    if "types_any_order" in case and Counter(types) != Counter(case["types_any_order"]):
        problems.append(("steps", f"{sorted(types)} != {sorted(case['types_any_order'])} (any order)"))
    return problems


def main(argv: list[str]) -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbuilder.settings")
    import django

    django.setup()
    path = Path(argv[0]) if argv else DEFAULT_PATH
    cases = json.loads(path.read_text())
    categories: Counter[str] = Counter()
    right = 0
    for case in cases:
        problems = score(case)
        if not problems:
            right += 1
            continue
        categories.update({category for category, _ in problems})
        print(f"MISS {case['text']!r}")
        for category, detail in problems:
            print(f"     {category}: {detail}")
    print(f"{path.name}: {right}/{len(cases)} right")
    for category, count in categories.most_common():
        print(f"  {category}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
