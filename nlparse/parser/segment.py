"""Cutting a text into sentences and clauses.

A lark lexer turns the text into tokens, URLs, e-mail addresses and quoted
strings staying whole (so their dots and commas cut nothing). Sentences end
at ``.``/``!``/``?``, line breaks and list markers (``1.``, ``-``). Inside a
sentence some words always start a new clause ("then", "and then", "after
that", "otherwise"), while commas and "and" only may: :func:`best_clauses`
tries the ways of cutting there and keeps the one whose clauses the grammar
explains best ("every Monday, Wednesday and Friday" stays one clause; "fetch
X and post it to Y" becomes two).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lark import Lark, Token

from nlparse.parser import lexicon
from nlparse.parser.ir import ClauseReading, Span, UnknownItem

# Phrases that always end a clause; they belong to neither side.
_ALWAYS_CUT_PHRASES: tuple[tuple[str, ...], ...] = (
    ("and", "then"),
    ("and", "finally"),
    ("and", "afterwards"),
    ("after", "that"),
    ("then",),
    ("afterwards",),
    ("finally",),
    ("next",),
    ("before",),  # "ask for approval before calling X": the approval, then the call
)
_ARROWS = frozenset({"\u2192", "\u27f6", "\u21d2", "\u00bb"})  # → ⟶ ⇒ »
_CUT_BEFORE = frozenset({"otherwise", "else"})
_MAYBE_CUT_BEFORE = frozenset({"if", "when", "for", "every", "each", "daily", "weekly", "monthly", "hourly"})
_LIST_BULLETS = frozenset({"-", "*", "\u2022", "\u2013"})  # hyphen, star, bullet, en dash
# How many optional cuts one clause may span: bounds the work on long sentences.
_MAX_SPAN = 6
MAX_CLAUSE_WORDS = 48


@cache
def _lexer() -> Lark:
    return Lark(Path(__file__).with_name("tokens.lark").read_text(), parser="lalr", lexer="basic")


def tokenize(text: str) -> list[Token]:
    return list(_lexer().lex(text))


def is_word(token: Token) -> bool:
    return token.type in ("URL", "EMAIL", "QUOTED", "NUMBER", "WORD")


@dataclass
class Chunk:
    """Tokens between two certain cuts; ``maybe`` holds indexes of tokens where a cut may fall."""

    tokens: list[Token]
    maybe: list[int]
    sentence: int
    after_then: bool = False  # it follows "then" (or "after that", "finally"…): the next step in order


def chunks(text: str) -> list[Chunk]:
    """The text's chunks: split at sentence ends and always-cut words, with the optional cut points marked."""
    result: list[Chunk] = []
    sentence = 0
    current: list[Token] = []
    maybe: list[int] = []
    after_then = False

    def close(*, new_sentence: bool = False, then: bool = False) -> None:
        nonlocal current, maybe, sentence, after_then
        if any(is_word(t) for t in current):
            result.append(Chunk(current, maybe, sentence, after_then))
            after_then = False
        current, maybe = [], []
        if new_sentence:
            sentence += 1
            after_then = False
        if then:
            after_then = True

    tokens = tokenize(text)
    index = 0
    line_start = True
    while index < len(tokens):
        token = tokens[index]
        lowered = str(token).lower()
        if token.type == "NEWLINE":
            close(new_sentence=True)
            line_start = True
            index += 1
            continue
        if line_start and _is_list_marker(tokens, index):
            # "1." / "2)" / "-" at the start of a line: a numbered or bulleted step.
            close(new_sentence=True)
            index += 2 if token.type == "NUMBER" else 1
            line_start = False
            continue
        line_start = False
        if token.type == "STOP":
            close(new_sentence=True)
            index += 1
            continue
        if token.type == "SEMI":
            close()
            index += 1
            continue
        phrase = _cut_phrase(tokens, index)
        if phrase:
            close(then=True)
            index += phrase
            continue
        arrow = _arrow(tokens, index)
        if arrow:  # "webhook -> fetch X -> email Y": steps in order
            close(then=True)
            index += arrow
            continue
        if token.type == "WORD" and lowered in _CUT_BEFORE:
            close()
        elif (token.type in ("COMMA", "COLON") or lowered == "and" or lowered in _MAYBE_CUT_BEFORE) and current:
            maybe.append(len(current))
        current.append(token)
        index += 1
    close()
    return result


def _is_list_marker(tokens: list[Token], index: int) -> bool:
    token = tokens[index]
    if token.type == "SYMBOL" and str(token) in _LIST_BULLETS:
        return True
    if token.type == "NUMBER" and "." not in token and index + 1 < len(tokens):
        following = tokens[index + 1]
        return str(following) in (".", ")", ":") and following.type in ("STOP", "SYMBOL", "COLON")
    return False


def _arrow(tokens: list[Token], index: int) -> int:
    """Length of an arrow ("->", "=>", "→") starting at ``index``, or 0."""
    token = tokens[index]
    if token.type != "SYMBOL":
        return 0
    if str(token) in _ARROWS:
        return 1
    following = tokens[index + 1] if index + 1 < len(tokens) else None
    if str(token) in ("-", "=") and following is not None and str(following) == ">" and following.type == "SYMBOL":
        return 2
    return 0


def _cut_phrase(tokens: list[Token], index: int) -> int:
    """Length of the always-cut phrase starting at ``index``, or 0."""
    for phrase in _ALWAYS_CUT_PHRASES:
        window = tokens[index : index + len(phrase)]
        if len(window) == len(phrase) and all(
            t.type == "WORD" and str(t).lower() == word for t, word in zip(window, phrase, strict=True)
        ):
            return len(phrase)
    return 0


Reader = Callable[[str, int], ClauseReading | None]


@dataclass
class Clause:
    reading: ClauseReading
    sentence: int
    words: list[Token]
    after_then: bool = False


def best_clauses(text: str, chunk: Chunk, read: Reader) -> list[Clause]:
    """The cutting of ``chunk`` at its optional points whose clauses leave the least unexplained.

    Dynamic programming over the cut points: the cost of a clause that parses
    is its filler words (1.5 each, stop-words a quarter), of one that does not
    one per word (stop-words a quarter), so an unknown phrase is cut off and reported rather than
    swallowed as filler; a small cost per clause prefers fewer, longer clauses.
    """
    bounds = [0, *chunk.maybe, len(chunk.tokens)]
    best: list[tuple[float, list[Clause]] | None] = [None] * len(bounds)
    best[0] = (0.0, [])
    for end in range(1, len(bounds)):
        for start in range(max(0, end - _MAX_SPAN), end):
            if best[start] is None:
                continue
            tokens = _trim(chunk.tokens[bounds[start] : bounds[end]])
            if not tokens:
                candidate = best[start]
            else:
                clause = _read_tokens(text, tokens, chunk.sentence, read)
                cost = best[start][0] + _cost(text, clause) + 0.05
                candidate = (cost, [*best[start][1], clause])
            if best[end] is None or candidate[0] < best[end][0]:
                best[end] = candidate
    final = best[-1]
    clauses = final[1] if final else []
    if clauses and chunk.after_then:
        clauses[0].after_then = True
    return clauses


def _trim(tokens: list[Token]) -> list[Token]:
    """Drop separators at the edges of a clause: a leading "and", commas."""
    start, end = 0, len(tokens)
    while start < end and (tokens[start].type in ("COMMA", "COLON") or str(tokens[start]).lower() == "and"):
        start += 1
    while (
        end > start
        and tokens[end - 1].type in ("COMMA", "COLON", "SYMBOL")
        and str(tokens[end - 1]) not in ('"', "'", ")")
    ):
        end -= 1
    return tokens[start:end]


def _read_tokens(text: str, tokens: list[Token], sentence: int, read: Reader) -> Clause:
    start, end = tokens[0].start_pos, tokens[-1].end_pos
    words = [t for t in tokens if is_word(t)]
    # A clause is a step or two; parsing a much longer one costs seconds and never reads it.
    reading = read(text[start:end], start) if len(words) <= MAX_CLAUSE_WORDS else None
    if reading is None:
        reading = ClauseReading(items=[UnknownItem((start, end), text[start:end])], span=(start, end), understood=False)
    return Clause(reading, sentence, words)


def _cost(text: str, clause: Clause) -> float:
    if not clause.reading.understood:
        return sum(0.25 if str(t).lower() in lexicon.STOPWORDS else 1.0 for t in clause.words)
    return sum(_filler_weight(text, span) for span in clause.reading.filler_spans)


def _filler_weight(text: str, span: Span) -> float:
    word = text[span[0] : span[1]].lower()
    return 0.25 if word in lexicon.STOPWORDS else 1.5
