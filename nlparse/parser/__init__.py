"""The built-in parser: a description in plain English to a workflow definition, no AI needed.

The pipeline, one module each:

========== =====================================================================
segment    the text → sentences and clauses (a lark lexer; optional cuts chosen
           by how well the grammar explains the clauses)
clauses    one clause → items, with the Earley grammar ``grammar.lark``
           completed by ``lexicon`` (places from the time zone database, weekdays…)
schedule   recurrence phrases → cron fields and a time zone
plan       items → trigger, steps, conditions with their branches, loops
build      plan → nodes, edges and ``{{ vars.… }}`` placeholders
========== =====================================================================

:func:`parse_text` runs it and checks the definition with the engine's
``validate_definition``.
"""

from __future__ import annotations

import logging
import time

from django.conf import settings

from executions.engine.validation import validate_definition
from flowbuilder.api.errors import Unprocessable
from nlparse.parser import lexicon
from nlparse.parser.build import build_definition
from nlparse.parser.clauses import find_schedule, read_clause
from nlparse.parser.ir import ClauseReading, Span
from nlparse.parser.plan import assemble, count_actions
from nlparse.parser.segment import Clause, best_clauses, chunks
from nlparse.result import ParseResult, ParseWarning

logger = logging.getLogger(__name__)

# The longest description taken, in characters (the API refuses longer ones at the field).
MAX_TEXT_LENGTH = 4000
NO_TRIGGER_PENALTY = 0.9
# Each assumption the trigger needed (no time zone: UTC; "every morning": 09:00) costs this share.
GUESS_PENALTY = 0.95


def read(text: str, *, budget: float | None = None) -> list[Clause]:
    """The clauses of ``text``, each with its reading (or an unknown item).

    Choosing the cuts parses many candidate clauses, and a long run of "… and … and …" has many
    (one request of 3,400 characters took five minutes). Past ``budget`` seconds
    (``FLOWBUILDER_PARSE_BUDGET_SECONDS``) the text is refused as too long to draft (422).
    """
    seconds = settings.FLOWBUILDER_PARSE_BUDGET_SECONDS if budget is None else budget
    deadline = time.monotonic() + seconds

    def read_in_time(clause: str, offset: int) -> ClauseReading | None:
        if time.monotonic() > deadline:
            raise Unprocessable(
                "This description is too long or too tangled to draft",
                details=[
                    {
                        "field": "text",
                        "message": f"Reading it took more than {seconds:g} s: describe a few steps at a time "
                        "(draft, save, then add the rest)",
                    }
                ],
            )
        return read_clause(clause, offset)

    clauses: list[Clause] = []
    for chunk in chunks(text):
        clauses.extend(best_clauses(text, chunk, read_in_time))
    return clauses


def parse_text(text: str) -> ParseResult:
    """Parse ``text`` into a valid definition.

    Raises Unprocessable (422) when no step could be understood, with one
    detail per phrase that was not, naming its characters (start inclusive,
    end exclusive).
    """
    clauses = read(text)
    plan = assemble(clauses)
    if plan.trigger is None:
        # A schedule said inside a step ("send a daily summary at 7pm to …", "post … every morning").
        words = [(t.start_pos, t.end_pos) for clause in clauses if clause.reading.understood for t in clause.words]
        plan.trigger = find_schedule(text, words)
    warnings: list[ParseWarning] = [_unknown_warning(item.text, item.span) for item in plan.unknown]
    warnings.extend(_ignored_words(text, clauses))

    if count_actions(plan.steps) == 0:
        details = [{"field": "text", "message": w.message} for w in warnings]
        if not details:
            details = [
                {
                    "field": "text",
                    "message": "No step found: say what the workflow should do, e.g. 'fetch https://…', "
                    "'send an email to …', 'post to Slack'",
                }
            ]
        raise Unprocessable("Could not understand what the workflow should do", details=details)

    if plan.trigger is not None:
        warnings.extend(ParseWarning(n.message, start=n.span[0], end=n.span[1]) for n in plan.trigger.notes if n.span)
    else:
        warnings.append(
            ParseWarning(
                "No trigger in the text: it runs when started by hand (say e.g. 'every weekday at 9am' or "
                "'when a webhook is received')"
            )
        )
    warnings.extend(ParseWarning(n.message, start=n.span[0], end=n.span[1]) for n in plan.notes if n.span)

    definition, build_warnings = build_definition(plan)
    warnings.extend(build_warnings)
    report = validate_definition(definition)
    if not report.valid:
        # A bug of the builder, never the user's: say so plainly rather than answer an unusable definition.
        logger.error("Parser built an invalid definition for %r: %s", text, report.errors)
        raise Unprocessable(
            "Could not build a valid workflow from this text",
            details=[{"field": "text", "message": f"{e['field']}: {e['message']}"} for e in report.errors],
        )
    warnings.extend(ParseWarning(w["message"], field=w["field"]) for w in report.warnings)
    confidence = understood_share(text, clauses)
    if plan.trigger is None:
        confidence *= NO_TRIGGER_PENALTY
    else:
        confidence *= GUESS_PENALTY ** len(plan.trigger.notes)
    return ParseResult(definition=report.definition, confidence=round(confidence, 2), warnings=warnings)


def understood_share(text: str, clauses: list[Clause]) -> float:
    """The share of the text's words the parse rests on, in [0, 1].

    A word of a clause no rule explains counts 0; a word a rule named counts
    1; a word a rule let pass as filler counts 1 if it is a stop-word ("the",
    "it") and ½ otherwise. Separators ("then", list numbers) are not counted.
    """
    total = 0.0
    understood = 0.0
    for clause in clauses:
        fillers = clause.reading.filler_spans
        for token in clause.words:
            total += 1
            if not clause.reading.understood:
                continue
            if _inside(token.start_pos, token.end_pos, fillers):
                understood += 1.0 if str(token).lower() in lexicon.STOPWORDS else 0.5
            else:
                understood += 1.0
    return understood / total if total else 0.0


def _inside(start: int, end: int, spans: list[Span]) -> bool:
    return any(s <= start and end <= e for s, e in spans)


def _ignored_words(text: str, clauses: list[Clause]) -> list[ParseWarning]:
    """Warnings for words at the start or end of a clause that no rule used ("fetch X right now")."""
    warnings = []
    for clause in clauses:
        if not clause.reading.understood:
            continue
        fillers = clause.reading.filler_spans
        flags = [_inside(t.start_pos, t.end_pos, fillers) for t in clause.words]
        if all(flags):
            continue
        first = flags.index(False)
        last = len(flags) - 1 - flags[::-1].index(False)
        for run in (clause.words[:first], clause.words[last + 1 :]):
            if any(str(t).lower() not in lexicon.STOPWORDS for t in run):
                start, end = run[0].start_pos, run[-1].end_pos
                warnings.append(
                    ParseWarning(
                        f"Ignored '{text[start:end]}' (characters {start}-{end}): no step uses it",
                        start=start,
                        end=end,
                    )
                )
    return warnings


def _unknown_warning(text: str, span: Span) -> ParseWarning:
    return ParseWarning(
        f"Did not understand '{text}' (characters {span[0]}-{span[1]}); it was left out",
        start=span[0],
        end=span[1],
    )
