"""The corpus: every sentence parses to its expected trigger, node types and config, and is valid."""

from __future__ import annotations

import pytest

from executions.engine.validation import validate_definition
from nlparse.parser import parse_text
from tests.nlparse.accuracy import check_case
from tests.nlparse.corpus import CORPUS, HARD


def test_the_corpus_is_big_enough():
    assert len(CORPUS) >= 40
    assert len({case.text for case in CORPUS}) == len(CORPUS)


@pytest.mark.parametrize("case", CORPUS, ids=[case.text[:60] for case in CORPUS])
def test_corpus_sentence(case):
    result, problems = check_case(case)
    assert problems == []
    assert validate_definition(result.definition).valid
    assert 0.5 <= result.confidence <= 1


@pytest.mark.parametrize(("text", "expected"), HARD, ids=[text[:60] for text, _ in HARD])
def test_hard_sentence_warnings(text, expected):
    result = parse_text(text)
    messages = [w.message for w in result.warnings]
    for fragment in expected:
        assert any(fragment in message for message in messages), (fragment, messages)
    assert validate_definition(result.definition).valid
    assert 0 <= result.confidence <= 1


def test_sentences_written_outside_the_project():
    """../shared/nl/dev_cases.json (copied here): 25 requests by people who never saw the parser."""
    import json

    from tests.nlparse.devset import DEFAULT_PATH, score

    cases = json.loads(DEFAULT_PATH.read_text())
    misses = {case["text"]: problems for case in cases if (problems := score(case))}
    assert len(cases) - len(misses) >= 23, misses
