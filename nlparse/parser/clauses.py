"""One clause: parse it with the grammar (``grammar.lark``) and read the tree into items (``ir.py``).

:func:`read_clause` answers a :class:`~nlparse.parser.ir.ClauseReading`, or
None when no rule of the grammar covers the clause. Of several parses, lark's
Earley parser keeps the one with the highest total rule priority: each
unexplained (``filler``) word costs one, so the reading that explains the
most words wins.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from lark import Lark, Token, Transformer, v_args
from lark.exceptions import LarkError

from nlparse.parser import lexicon
from nlparse.parser.ir import (
    ActionItem,
    ClauseReading,
    ElseItem,
    IfItem,
    Item,
    LoopItem,
    Note,
    Span,
    TriggerItem,
)
from nlparse.parser.schedule import UNIT_OF_WORD, UNIT_SECONDS, Recurrence, clock

GRAMMAR_PATH = Path(__file__).with_name("grammar.lark")
MAX_WAIT_SECONDS = 30 * 86400

_METHOD_OF_WORD = {"post": "POST", "put": "PUT", "patch": "PATCH", "delete": "DELETE", "update": "PUT"}
# AI nouns that name a model rather than "the LLM" in general.
_MODEL_PREFIXES = ("gpt-", "gpt4", "claude", "llama", "mistral", "gemini")


@cache
def clause_parser() -> Lark:
    """The Earley parser of one clause (built once: the generated terminals make it ~100 ms)."""
    grammar = GRAMMAR_PATH.read_text() + "\n" + lexicon.terminals() + "\n"
    return Lark(grammar, parser="earley", ambiguity="resolve", propagate_positions=True)


@cache
def schedule_parser() -> Lark:
    """The grammar's ``schedule`` rule alone: for a schedule said inside a step ("send a daily report at 7pm")."""
    grammar = GRAMMAR_PATH.read_text() + "\n" + lexicon.terminals() + "\n"
    return Lark(grammar, parser="earley", ambiguity="resolve", propagate_positions=True, start="schedule")


# Words a schedule phrase may start with.
_SCHEDULE_CUES = frozenset(
    {"every", "each", "daily", "nightly", "hourly", "weekly", "monthly", "at", "on", "twice", "once", "weekdays"}
)


def find_schedule(text: str, words: list[tuple[int, int]]) -> TriggerItem | None:
    """The longest schedule phrase among ``words`` (their spans in ``text``), read as a trigger; or None."""
    best: TriggerItem | None = None
    for i, (start, _) in enumerate(words):
        if text[start : words[i][1]].lower() not in _SCHEDULE_CUES:
            continue
        for j in range(min(len(words), i + 10), i, -1):
            end = words[j - 1][1]
            if best is not None and end - start <= best.span[1] - best.span[0]:
                break
            try:
                tree = schedule_parser().parse(text[start:end])
                item = _Reader(start, text[start:end]).transform(tree)
            except (LarkError, _Unreadable):
                continue
            if isinstance(item, TriggerItem):
                best = item
                break
    return best


def read_clause(text: str, offset: int) -> ClauseReading | None:
    """The items of ``text`` (which starts at ``offset`` in the whole text), or None if it does not parse."""
    try:
        tree = clause_parser().parse(text)
    except LarkError:
        return None
    reader = _Reader(offset, text)
    try:
        items = reader.transform(tree)
    except _Unreadable:
        return None
    except LarkError as exc:  # a transformer error surfaces wrapped as VisitError
        if isinstance(getattr(exc, "orig_exc", None), _Unreadable):
            return None
        raise
    return ClauseReading(items=items, span=(offset, offset + len(text)), filler_spans=reader.fillers)


class _Unreadable(Exception):
    """The tree parsed but its values make no sense (25:99, every 0 minutes)."""


def _tokens(children: list[Any], *types: str) -> list[Token]:
    return [c for c in children if isinstance(c, Token) and (not types or c.type in types)]


def _first(children: list[Any], kind: type) -> Any:
    return next((c for c in children if isinstance(c, kind)), None)


_OPENING_QUOTES = "\"'\u201c\u2018"  # straight and curly
_CLOSING_QUOTES = "\"'\u201d\u2019"


def _unquote(text: str) -> str:
    if len(text) >= 2 and text[0] in _OPENING_QUOTES and text[-1] in _CLOSING_QUOTES:
        return text[1:-1]
    return text


class _Text(str):
    """A text value (subject, message) as the words gave it."""


class _Recipients(list):
    pass


class _Approvers(list):
    pass


class _Subject(str):
    pass


class _Body(str):
    pass


class _SlackText(str):
    pass


class _Comparison(tuple):
    pass


class _Subject_ref(list):
    pass


class _Items(dict):
    pass


class _Filler:
    pass


_FILLER = _Filler()
SchedulePart = Callable[[Recurrence], None]


@v_args(meta=True)
class _Reader(Transformer):
    """Tree → items. Positions are made absolute with ``offset``; filler spans are collected."""

    def __init__(self, offset: int, text: str = "") -> None:
        super().__init__()
        self.offset = offset
        self.text = text
        self.fillers: list[Span] = []

    def _span(self, meta: Any) -> Span:
        if getattr(meta, "empty", True):
            return (self.offset, self.offset)
        return (self.offset + meta.start_pos, self.offset + meta.end_pos)

    def _clean(self, children: list[Any]) -> list[Any]:
        return [c for c in children if c is not _FILLER]

    # --- clause shapes ------------------------------------------------------------

    def start(self, meta: Any, children: list[Any]) -> list[Item]:
        return children[0]

    def _flatten(self, children: list[Any]) -> list[Item]:
        items: list[Item] = []
        for child in children:
            if isinstance(child, list):
                items.extend(child)
            elif child is not None and child is not _FILLER:
                items.append(child)
        return items

    def trigger_only(self, meta: Any, children: list[Any]) -> list[Item]:
        return self._flatten(children)

    trigger_then_body = body_then_trigger = clause = trigger_only

    def if_clause(self, meta: Any, children: list[Any]) -> list[Item]:
        head, *rest = self._clean(children)
        head.action = rest[0] if rest else None
        return [head]

    def postfix_if(self, meta: Any, children: list[Any]) -> list[Item]:
        action, head = self._clean(children)
        head.action, head.postfix = action, True
        return [head]

    def else_clause(self, meta: Any, children: list[Any]) -> list[Item]:
        head, *rest = self._clean(children)
        head.action = rest[0] if rest else None
        return [head]

    loop_clause = else_clause

    def filler(self, meta: Any, children: list[Any]) -> _Filler:
        self.fillers.append(self._span(meta))
        return _FILLER

    # --- triggers ----------------------------------------------------------------------

    def schedule(self, meta: Any, children: list[Any]) -> TriggerItem:
        recurrence = Recurrence(span=self._span(meta))
        for part in children:
            if callable(part):
                part(recurrence)
        if recurrence.every is None and not (
            recurrence.daily or recurrence.days_of_week or recurrence.day_of_month or recurrence.month
        ):
            if not recurrence.times:
                raise _Unreadable("a zone alone is not a schedule")
            recurrence.daily = True  # "at 7:30 Sydney time": a time of day, so every day
            recurrence.note("A time with no day: read as every day")
        cron = recurrence.to_cron()
        config = {"cron": cron, "timezone": recurrence.timezone or "UTC"}
        if recurrence.timezone is None:
            recurrence.notes.append(Note("No time zone given; the schedule runs in UTC", recurrence.span))
        return TriggerItem("schedule", recurrence.span, config, notes=recurrence.notes)

    def every_n(self, meta: Any, children: list[Any]) -> SchedulePart:
        count, unit = self._clean(children)
        if count <= 0:
            raise _Unreadable("every 0")
        name = UNIT_OF_WORD[str(unit).lower()]
        return lambda r: setattr(r, "every", (count, name))

    def times_a_day(self, meta: Any, children: list[Any]) -> SchedulePart:
        counts = [c for c in self._clean(children) if isinstance(c, float)]
        per_day = int(counts[0]) if counts else 2
        if not 1 <= per_day <= 24 or (counts and counts[0] != per_day):
            raise _Unreadable(f"{counts[0]} times a day")

        def apply(r: Recurrence) -> None:
            r.daily = True
            r.per_day = per_day

        return apply

    def every_unit(self, meta: Any, children: list[Any]) -> SchedulePart:
        name = UNIT_OF_WORD[str(self._clean(children)[0]).lower()]

        def apply(r: Recurrence) -> None:
            if name == "day":
                r.daily = True
            else:
                r.every = (1, name)

        return apply

    def frequency(self, meta: Any, children: list[Any]) -> SchedulePart:
        word = str(children[0]).lower()
        unit = {"hourly": "hour", "daily": "day", "nightly": "day", "weekly": "week", "monthly": "month"}.get(word)

        def apply(r: Recurrence) -> None:
            if unit == "day":
                r.daily = True
                if word == "nightly" and not r.times:
                    r.times.append((0, 0))
            elif unit is None:  # yearly, annually
                r.month, r.day_of_month = r.month or 1, r.day_of_month or 1
            else:
                r.every = (1, unit)

        return apply

    def every_day(self, meta: Any, children: list[Any]) -> SchedulePart:
        return lambda r: setattr(r, "daily", True)

    def every_morning(self, meta: Any, children: list[Any]) -> SchedulePart:
        def apply(r: Recurrence) -> None:
            r.daily = True
            r.default_time = ((9, 0), "'Morning' read as 09:00")

        return apply

    def every_evening(self, meta: Any, children: list[Any]) -> SchedulePart:
        def apply(r: Recurrence) -> None:
            r.daily = True
            r.default_time = ((18, 0), "'Evening' read as 18:00")

        return apply

    def minute_spec(self, meta: Any, children: list[Any]) -> SchedulePart:
        minute = int(float(_tokens(children, "NUMBER")[0]))
        if not 0 <= minute <= 59:
            raise _Unreadable(f"minute {minute}")

        def apply(r: Recurrence) -> None:
            r.minute = minute
            if r.every is None and not r.daily:
                r.every = (1, "hour")

        return apply

    def daypart_clock(self, meta: Any, children: list[Any]) -> tuple[int, int]:
        number = _tokens(children, "NUMBER", "NUMBER_WORD")[0]
        text = str(number).lower()
        hour = lexicon.NUMBER_WORDS.get(text) if text in lexicon.NUMBER_WORDS else float(text)
        part = str(_tokens(children, "DAYPART")[0]).lower() if _tokens(children, "DAYPART") else "night"
        if hour is None or hour != int(hour) or not 1 <= hour <= 12:
            raise _Unreadable(f"hour {text}")
        hour = int(hour) % 12
        if part in ("afternoon", "evening") or (part == "night" and hour >= 6):
            hour += 12
        return hour, 0

    def weekdays(self, meta: Any, children: list[Any]) -> SchedulePart:
        return lambda r: r.days_of_week.extend([1, 2, 3, 4, 5])

    def weekends(self, meta: Any, children: list[Any]) -> SchedulePart:
        return lambda r: r.days_of_week.extend([6, 0])

    def days(self, meta: Any, children: list[Any]) -> SchedulePart:
        days = self._clean(children)[0]
        return lambda r: r.days_of_week.extend(days)

    def weekday_list(self, meta: Any, children: list[Any]) -> list[int]:
        return [c for c in children if isinstance(c, int)]

    def weekday(self, meta: Any, children: list[Any]) -> int:
        word = str(children[0]).lower()
        return lexicon.WEEKDAYS[word.removesuffix("s") if word not in lexicon.WEEKDAYS else word]

    def day_of_month(self, meta: Any, children: list[Any]) -> int:
        return children[0]

    def ordinal_day(self, meta: Any, children: list[Any]) -> int:
        return self.day_number(meta, children)

    def day_number(self, meta: Any, children: list[Any]) -> int:
        text = str(children[0]).lower()
        value = lexicon.ORDINAL_WORDS.get(text) or int("".join(ch for ch in text if ch.isdigit()) or 0)
        if not 1 <= value <= 31:
            raise _Unreadable(f"day {value}")
        return value

    def month_day(self, meta: Any, children: list[Any]) -> SchedulePart:
        day, *more = [c for c in self._clean(children) if isinstance(c, int)]

        def apply(r: Recurrence) -> None:
            r.day_of_month = day
            r.more_days_of_month.extend(more)
            if r.every is None and r.month is None:
                r.every = (1, "month")
            if day > 28:
                r.note(f"Months without a {day}th day are skipped")

        return apply

    def last_day(self, meta: Any, children: list[Any]) -> SchedulePart:
        def apply(r: Recurrence) -> None:
            r.day_of_month = 28
            r.every = (1, "month")
            r.note("Cron has no 'last day of the month' here; it runs on the 28th")

        return apply

    def yearly_on(self, meta: Any, children: list[Any]) -> SchedulePart:
        month_token = _tokens(children, "MONTH")[0]
        day = _first(self._clean(children), int)
        month = lexicon.MONTHS[str(month_token).lower()]

        def apply(r: Recurrence) -> None:
            r.month, r.day_of_month = month, day or 1

        return apply

    def time_spec(self, meta: Any, children: list[Any]) -> SchedulePart:
        times = [c for c in children if isinstance(c, tuple)]
        return lambda r: r.times.extend(times)

    def time_range(self, meta: Any, children: list[Any]) -> SchedulePart:
        (start_hour, _), (end_hour, _) = [c for c in children if isinstance(c, tuple)]
        if end_hour <= start_hour:
            raise _Unreadable("empty hour range")
        return lambda r: setattr(r, "hour_range", (start_hour, end_hour))

    def clock(self, meta: Any, children: list[Any]) -> tuple[int, int]:
        token = children[0]
        if isinstance(token, tuple):  # daypart_clock
            return token
        if token.type == "NUMBER":  # "at 9": an hour on the 24-hour clock
            if "." in token or not 0 <= int(token) <= 23:
                raise _Unreadable(f"hour {token}")
            return int(token), 0
        value = clock(str(token))
        if value is None:
            raise _Unreadable(f"time {token}")
        return value

    def tz_spec(self, meta: Any, children: list[Any]) -> SchedulePart:
        values = [c for c in children if isinstance(c, str)]
        zone = lexicon.zone_for(str(values[0]))
        if zone is None:
            raise _Unreadable(f"zone {values[0]}")
        return lambda r: setattr(r, "timezone", zone)

    def place(self, meta: Any, children: list[Any]) -> str:
        return str(children[0])

    def count(self, meta: Any, children: list[Any]) -> float:
        text = str(children[0]).lower()
        return float(lexicon.NUMBER_WORDS[text]) if text in lexicon.NUMBER_WORDS else float(text)

    def webhook_trigger(self, meta: Any, children: list[Any]) -> TriggerItem:
        return TriggerItem("webhook", self._span(meta), {"method": "POST"})

    def manual_trigger(self, meta: Any, children: list[Any]) -> TriggerItem:
        return TriggerItem("manual", self._span(meta))

    def file_trigger(self, meta: Any, children: list[Any]) -> TriggerItem:
        kind = str(_tokens(children, "FILE_KIND")[0]).lower().rstrip("s")
        category = {
            "image": "image",
            "photo": "image",
            "picture": "image",
            "pdf": "document",
            "document": "document",
            "csv": "data",
            "spreadsheet": "data",
            "audio": "audio",
            "recording": "audio",
            "video": "video",
        }.get(kind)
        config: dict[str, Any] = {"file": {"required": True}}
        if category:
            config["file"]["categories"] = [category]
        return TriggerItem("file", self._span(meta), config)

    # --- actions -------------------------------------------------------------------------

    def http_get(self, meta: Any, children: list[Any]) -> ActionItem:
        urls = [str(t) for t in _tokens(children, "URL")]
        slots: dict[str, Any] = {"method": "GET", "url": urls[0]}
        if len(urls) > 1:  # "fetch A and B": one request each, their results together
            slots["urls"] = urls
        return ActionItem("http", self._span(meta), slots)

    def bare_url(self, meta: Any, children: list[Any]) -> Token:
        return children[0]

    def http_post(self, meta: Any, children: list[Any]) -> ActionItem:
        url = str(_tokens(children, "URL")[0])
        return ActionItem("http", self._span(meta), {"method": "POST", "url": url, "send_result": True})

    def http_method(self, meta: Any, children: list[Any]) -> ActionItem:
        method = _METHOD_OF_WORD[str(_tokens(children, "METHOD")[0]).lower()]
        url = str(_tokens(children, "URL")[0])
        return ActionItem("http", self._span(meta), {"method": method, "url": url, "send_result": method != "DELETE"})

    def send_email(self, meta: Any, children: list[Any]) -> ActionItem:
        slots: dict[str, Any] = {"to": []}
        for child in children:
            if isinstance(child, _Recipients):
                slots["to"].extend(child)
            elif isinstance(child, _Subject):
                slots["subject"] = str(child)
            elif isinstance(child, _Body):
                slots["body"] = str(child)
        return ActionItem("email", self._span(meta), slots)

    def recipients(self, meta: Any, children: list[Any]) -> _Recipients:
        return _Recipients(str(t) for t in _tokens(children, "EMAIL"))

    def approvers(self, meta: Any, children: list[Any]) -> _Approvers:
        return _Approvers(str(t) for t in _tokens(children, "EMAIL"))

    def subject(self, meta: Any, children: list[Any]) -> _Subject:
        return _Subject(_first(children, _Text))

    def email_body(self, meta: Any, children: list[Any]) -> _Body:
        return _Body(_first(children, _Text))

    def text_value(self, meta: Any, children: list[Any]) -> _Text:
        if len(children) == 1 and children[0].type == "QUOTED":
            return _Text(_unquote(str(children[0])))
        return _Text(" ".join(str(c) for c in children))

    def slack(self, meta: Any, children: list[Any]) -> ActionItem:
        slots: dict[str, Any] = {}
        channels = _tokens(children, "CHANNEL")
        if channels:
            slots["channel"] = str(channels[0])
        text = _first(children, _SlackText)
        if text:
            slots["text"] = str(text)
        return ActionItem("slack", self._span(meta), slots)

    def slack_text(self, meta: Any, children: list[Any]) -> _SlackText:
        text = _first(children, _Text)
        if text is None:  # a bare quoted message: "send a Slack message 'good morning'"
            text = _unquote(str(_tokens(children, "QUOTED")[0]))
        return _SlackText(text)

    def duration(self, meta: Any, children: list[Any]) -> float:
        count, unit = self._clean(children)[:2]
        extra = 0.5 if len(children) > 2 else 0.0
        return (count + extra) * UNIT_SECONDS[UNIT_OF_WORD[str(unit).lower()]]

    def delay(self, meta: Any, children: list[Any]) -> ActionItem:
        seconds = _first(self._clean(children), float)
        if not 0 < seconds <= MAX_WAIT_SECONDS:
            raise _Unreadable(f"wait of {seconds} s")
        return ActionItem("delay", self._span(meta), {"seconds": int(seconds) if seconds == int(seconds) else seconds})

    def delay_half(self, meta: Any, children: list[Any]) -> ActionItem:
        unit = _tokens(children, "SECONDS", "MINUTES", "HOURS", "DAYS", "WEEKS", "MONTHS")[0]
        seconds = UNIT_SECONDS[UNIT_OF_WORD[str(unit).lower()]] / 2
        return ActionItem("delay", self._span(meta), {"seconds": int(seconds)})

    def approval(self, meta: Any, children: list[Any]) -> ActionItem:
        slots: dict[str, Any] = {}
        approvers = _first(children, _Approvers)
        if approvers:
            slots["approvers"] = list(approvers)
        quoted = _tokens(children, "QUOTED")
        if quoted:
            slots["message"] = _unquote(str(quoted[0]))
        return ActionItem("approval", self._span(meta), slots)

    def llm_task(self, meta: Any, children: list[Any]) -> ActionItem:
        verb = str(_tokens(children, "LLM_VERB")[0]).lower()
        slots: dict[str, Any] = {"task": verb, **self._model(children), **self._language(meta, children)}
        urls = _tokens(children, "URL")
        if urls:  # "summarise https://…": what is at the address, fetched first
            slots["url"] = str(urls[0])
        return ActionItem("llm", self._span(meta), slots)

    def llm_ask(self, meta: Any, children: list[Any]) -> ActionItem:
        verbs = _tokens(children, "LLM_VERB")
        task = str(verbs[0]).lower() if verbs else "answer"
        slots = {"task": task, **self._model(children), **self._language(meta, children)}
        return ActionItem("llm", self._span(meta), slots)

    def _language(self, meta: Any, children: list[Any]) -> dict[str, str]:
        """The language a translation goes to ("translate it to French", "into German")."""
        words = self.text[meta.start_pos : meta.end_pos].split() if not getattr(meta, "empty", True) else []
        for before, word in itertools.pairwise(w.strip(".,;:!?'\"") for w in words):
            if before.lower() in ("to", "into", "in") and word.lower() in lexicon.LANGUAGES:
                return {"language": word.capitalize()}
        return {}

    def _model(self, children: list[Any]) -> dict[str, str]:
        nouns = [str(t) for t in _tokens(children, "AI_NOUN")]
        for noun in nouns:
            if noun.lower().startswith(_MODEL_PREFIXES):
                return {"model": noun}
        return {}

    def script(self, meta: Any, children: list[Any]) -> ActionItem:
        return ActionItem("script", self._span(meta))

    def sub_workflow(self, meta: Any, children: list[Any]) -> ActionItem:
        slots: dict[str, Any] = {}
        ids = _tokens(children, "UUID")
        if ids:
            slots["workflow_id"] = str(ids[0]).lower()
        names = _tokens(children, "QUOTED")
        if names:
            slots["name"] = _unquote(str(names[0]))
        return ActionItem("sub_workflow", self._span(meta), slots)

    def respond(self, meta: Any, children: list[Any]) -> ActionItem:
        return ActionItem("respond", self._span(meta))

    def extract(self, meta: Any, children: list[Any]) -> ActionItem:
        field = _first(children, _Items)
        return ActionItem("extract", self._span(meta), {"field": field["name"]})

    def field_name(self, meta: Any, children: list[Any]) -> _Items:
        return _Items(name=_unquote(str(children[-1])))

    # --- conditions and loops ------------------------------------------------------------

    def if_head(self, meta: Any, children: list[Any]) -> IfItem:
        subject = _first(children, _Subject_ref)
        op, value = _first(children, _Comparison)
        return IfItem(self._span(meta), subject=subject.words, op=op, value=value)

    def if_failed(self, meta: Any, children: list[Any]) -> IfItem:
        subject = _first(children, _Subject_ref)
        op = "error_answer" if _tokens(children, "ERROR_ANSWER") else "failed"
        return IfItem(self._span(meta), subject=subject.words, op=op)

    def subject_ref(self, meta: Any, children: list[Any]) -> _Subject_ref:
        ref = _Subject_ref()
        ref.words = [str(t).lower() for t in _tokens(children)]
        return ref

    def subject_it(self, meta: Any, children: list[Any]) -> _Subject_ref:
        ref = _Subject_ref()
        ref.words = None
        return ref

    def _comparison(op: str) -> Callable[..., _Comparison]:
        def method(self: _Reader, meta: Any, children: list[Any]) -> _Comparison:
            values = [c for c in children if isinstance(c, _Value)]
            return _Comparison((op, values[0].value if values else None))

        return method

    eq = _comparison("eq")
    ne = _comparison("ne")
    gt = _comparison("gt")
    lt = _comparison("lt")
    ge = _comparison("ge")
    le = _comparison("le")
    contains = _comparison("contains")
    empty = _comparison("empty")
    not_empty = _comparison("not_empty")
    del _comparison

    def value(self, meta: Any, children: list[Any]) -> _Value:
        token = children[0]
        text = str(token)
        if token.type == "NUMBER":
            return _Value(float(text) if "." in text else int(text))
        if token.type == "NUMBER_WORD":
            return _Value(int(lexicon.NUMBER_WORDS[text.lower()]))
        return _Value(_unquote(text))

    def true(self, meta: Any, children: list[Any]) -> _Value:
        return _Value(True)

    def false(self, meta: Any, children: list[Any]) -> _Value:
        return _Value(False)

    def else_head(self, meta: Any, children: list[Any]) -> ElseItem:
        return ElseItem(self._span(meta))

    def loop_head(self, meta: Any, children: list[Any]) -> LoopItem:
        items = _first(children, _Items)
        return LoopItem(
            self._span(meta),
            item_name=items.get("name", "item"),
            source_url=items.get("url"),
            source_path=items.get("path"),
        )

    def items_in(self, meta: Any, children: list[Any]) -> _Items:
        name = str(children[0]).lower()
        urls = _tokens(children, "URL")
        if urls:
            return _Items(name=name, url=str(urls[0]))
        path = _first(children, list)
        return _Items(name=name, path=path or None)

    def items_them(self, meta: Any, children: list[Any]) -> _Items:
        return _Items(name="item")

    def items_bare(self, meta: Any, children: list[Any]) -> _Items:
        return _Items(name=str(children[0]).lower())

    def items_path(self, meta: Any, children: list[Any]) -> list[str]:
        return [str(t).lower() for t in _tokens(children, "NAME_WORD")]


class _Value:
    def __init__(self, value: Any) -> None:
        self.value = value

    def __repr__(self) -> str:
        return json.dumps(self.value)
