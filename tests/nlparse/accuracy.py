"""Print the built-in parser's accuracy on the corpus: ``python -m tests.nlparse.accuracy``."""

from __future__ import annotations

import os
import sys
from typing import Any


def check_case(case: Any) -> tuple[Any, list[str]]:
    """The parse of ``case.text`` and what differs from the case's expectations (empty when it matches)."""
    from flowbuilder.api.errors import ApplicationError
    from nlparse.parser import parse_text

    try:
        result = parse_text(case.text)
    except ApplicationError as exc:
        return None, [f"{exc.code}: {exc.message} {exc.details}"]
    nodes = result.definition["nodes"]
    problems = []
    types = [n["type"] for n in nodes]
    if types != case.nodes:
        problems.append(f"node types {types} != {case.nodes}")
    trigger = nodes[0]
    if trigger["type"] != case.trigger["type"]:
        problems.append(f"trigger {trigger['type']} != {case.trigger['type']}")
    for key in ("cron", "timezone"):
        if key in case.trigger and trigger["config"].get(key) != case.trigger[key]:
            problems.append(f"trigger {key} {trigger['config'].get(key)!r} != {case.trigger[key]!r}")
    for key, value in case.trigger.get("config", {}).items():
        if trigger["config"].get(key) != value:
            problems.append(f"trigger config {key} {trigger['config'].get(key)!r} != {value!r}")
    for index, expected in case.config.items():
        config = nodes[index]["config"] if index < len(nodes) else {}
        for key, value in expected.items():
            if config.get(key) != value:
                problems.append(f"nodes[{index}].config.{key} {config.get(key)!r} != {value!r}")
    return result, problems


def main() -> int:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "flowbuilder.settings")
    import django

    django.setup()
    from nlparse.parser import parse_text
    from tests.nlparse.corpus import CORPUS, HARD

    failures = 0
    confidences = []
    for case in CORPUS:
        result, problems = check_case(case)
        if problems:
            failures += 1
            print(f"MISS {case.text!r}\n     " + "\n     ".join(problems))
        else:
            confidences.append(result.confidence)
    passed = len(CORPUS) - failures
    print(f"corpus: {passed}/{len(CORPUS)} sentences fully right ({100 * passed / len(CORPUS):.1f}%)")
    if confidences:
        print(f"corpus: mean confidence {sum(confidences) / len(confidences):.2f}")
    hard_confidences = []
    for text, _ in HARD:
        try:
            hard_confidences.append(parse_text(text).confidence)
        except Exception:  # a 422: nothing understood
            hard_confidences.append(0.0)
    print(f"hard: {len(HARD)} sentences, mean confidence {sum(hard_confidences) / len(hard_confidences):.2f}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
