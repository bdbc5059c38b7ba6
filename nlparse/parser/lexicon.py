"""The vocabulary the grammar is completed with, generated from data rather than typed out.

:func:`terminals` answers lark terminal definitions appended to ``grammar.lark``:
place names come from the IANA time zone database (``zoneinfo``), weekdays
and months from :mod:`calendar`, number and ordinal words from the tables
below. Each terminal matches whole words only.
"""

from __future__ import annotations

import calendar
import re
from functools import cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

# Areas whose zones are named after a city ("Europe/Paris"); the others are legacy aliases.
_CITY_AREAS = ("Europe", "America", "Asia", "Africa", "Australia", "Pacific", "Atlantic", "Indian", "Antarctica")

# What people say instead of a zone's city. Abbreviations name the zone most people mean
# by them (EST is New York's time, with daylight saving), not IANA's fixed-offset zones.
TZ_ABBREVIATIONS: dict[str, str] = {
    "utc": "UTC",
    "gmt": "UTC",
    "z": "UTC",
    "zulu": "UTC",
    "cet": "CET",
    "cest": "CET",
    "met": "CET",
    "eet": "EET",
    "eest": "EET",
    "wet": "WET",
    "west": "WET",
    "bst": "Europe/London",
    "est": "America/New_York",
    "edt": "America/New_York",
    "et": "America/New_York",
    "cst": "America/Chicago",
    "cdt": "America/Chicago",
    "ct": "America/Chicago",
    "mst": "America/Denver",
    "mdt": "America/Denver",
    "mt": "America/Denver",
    "pst": "America/Los_Angeles",
    "pdt": "America/Los_Angeles",
    "pt": "America/Los_Angeles",
    "ist": "Asia/Kolkata",
    "jst": "Asia/Tokyo",
    "kst": "Asia/Seoul",
    "aest": "Australia/Sydney",
    "aedt": "Australia/Sydney",
    "nzst": "Pacific/Auckland",
}
TZ_REGIONS: dict[str, str] = {
    "eastern": "America/New_York",
    "central": "America/Chicago",
    "mountain": "America/Denver",
    "pacific": "America/Los_Angeles",
    "central european": "Europe/Paris",
    "british": "Europe/London",
    "india": "Asia/Kolkata",
    "indian": "Asia/Kolkata",
    "japan": "Asia/Tokyo",
    "japanese": "Asia/Tokyo",
    "china": "Asia/Shanghai",
    "beijing": "Asia/Shanghai",
    "san francisco": "America/Los_Angeles",
    "seattle": "America/Los_Angeles",
    "boston": "America/New_York",
    "washington": "America/New_York",
    "miami": "America/New_York",
    "munich": "Europe/Berlin",
    "frankfurt": "Europe/Berlin",
    "hamburg": "Europe/Berlin",
    "milan": "Europe/Rome",
    "barcelona": "Europe/Madrid",
    "geneva": "Europe/Zurich",
    "mumbai": "Asia/Kolkata",
    "delhi": "Asia/Kolkata",
    "new delhi": "Asia/Kolkata",
    "bangalore": "Asia/Kolkata",
    "bengaluru": "Asia/Kolkata",
    "utc": "UTC",
    "gmt": "UTC",
}

NUMBER_WORDS: dict[str, float] = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "eleven": 11,
    "twelve": 12,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty": 40,
    "forty-five": 45,
    "fifty": 50,
    "sixty": 60,
    "ninety": 90,
    "half": 0.5,
    "a couple of": 2,
    "a few": 3,
}
_ORDINAL_WORDS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
    "thirteenth",
    "fourteenth",
    "fifteenth",
    "sixteenth",
    "seventeenth",
    "eighteenth",
    "nineteenth",
    "twentieth",
    "twenty-first",
    "twenty-second",
    "twenty-third",
    "twenty-fourth",
    "twenty-fifth",
    "twenty-sixth",
    "twenty-seventh",
    "twenty-eighth",
)
ORDINAL_WORDS: dict[str, int] = {word: index for index, word in enumerate(_ORDINAL_WORDS, start=1)}

WEEKDAYS: dict[str, int] = {}  # name or abbreviation → cron day of week (0 = Sunday)
for _index, (_name, _abbr) in enumerate(zip(calendar.day_name, calendar.day_abbr, strict=True)):
    _cron = (_index + 1) % 7  # calendar starts on Monday, cron on Sunday
    WEEKDAYS[_name.lower()] = _cron
    WEEKDAYS[_abbr.lower()] = _cron
WEEKDAYS.update({"tues": 2, "weds": 3, "thur": 4, "thurs": 4})

MONTHS: dict[str, int] = {}
for _index in range(1, 13):
    MONTHS[calendar.month_name[_index].lower()] = _index
    MONTHS[calendar.month_abbr[_index].lower()] = _index
MONTHS.pop("may")  # far more often the verb than the month

# Filler words that carry no meaning of their own: matched or not, they count as understood.
STOPWORDS = frozenset(
    {
        "a",
        "an",
        "the",
        "it",
        "its",
        "them",
        "this",
        "that",
        "these",
        "those",
        "to",
        "from",
        "of",
        "on",
        "in",
        "at",
        "by",
        "for",
        "with",
        "and",
        "or",
        "my",
        "our",
        "your",
        "their",
        "me",
        "us",
        "please",
        "also",
        "just",
        "then",
        "new",
        "all",
        "any",
        "some",
        "is",
        "are",
        "be",
    }
)


@cache
def places() -> dict[str, str]:
    """Lower-case place name → IANA zone: every city of the time zone database, plus :data:`TZ_REGIONS`."""
    found: dict[str, str] = {}
    # Prefer the canonical spelling of a city listed twice ("America/Argentina/Cordoba").
    for key in sorted(available_timezones(), key=lambda k: (-k.count("/"), k)):
        parts = key.split("/")
        if len(parts) >= 2 and parts[0] in _CITY_AREAS:
            found.setdefault(parts[-1].replace("_", " ").lower(), key)
    found.update(TZ_REGIONS)
    return found


def zone_for(phrase: str) -> str | None:
    """The IANA zone a place name, abbreviation or IANA key names, or None."""
    text = " ".join(phrase.lower().replace("_", " ").split())
    if text in TZ_ABBREVIATIONS:
        return TZ_ABBREVIATIONS[text]
    if text in places():
        return places()[text]
    try:
        ZoneInfo(phrase.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None
    return phrase.strip()


def _alternation(words: object) -> str:
    # Longest first, so that "new york" wins over "york"; spaces match any run of blanks.
    escaped = sorted({re.escape(w).replace(r"\ ", r"\s+") for w in words}, key=len, reverse=True)  # type: ignore[attr-defined]
    return "|".join(escaped)


def _word_terminal(name: str, words: object, priority: int = 0) -> str:
    suffix = f".{priority}" if priority else ""
    return f"{name}{suffix}: /(?<![\\w-])(?:{_alternation(words)})(?![\\w-])/i"


@cache
def terminals() -> str:
    """The generated terminal definitions, in lark syntax."""
    return "\n".join(
        [
            _word_terminal("PLACE", places()),
            _word_terminal("TZ_ABBR", TZ_ABBREVIATIONS),
            _word_terminal("WEEKDAY", WEEKDAYS),
            _word_terminal("MONTH", MONTHS),
            _word_terminal("NUMBER_WORD", [w for w in NUMBER_WORDS if w not in ("a", "an")]),
            _word_terminal("ORDINAL_WORD", ORDINAL_WORDS),
        ]
    )


# Languages a translation may go to (lower case).
LANGUAGES = frozenset(
    [
        "arabic",
        "bengali",
        "bulgarian",
        "catalan",
        "chinese",
        "croatian",
        "czech",
        "danish",
        "dutch",
        "english",
        "estonian",
        "finnish",
        "french",
        "german",
        "greek",
        "hebrew",
        "hindi",
        "hungarian",
        "icelandic",
        "indonesian",
        "irish",
        "italian",
        "japanese",
        "korean",
        "latvian",
        "lithuanian",
        "malay",
        "mandarin",
        "norwegian",
        "persian",
        "polish",
        "portuguese",
        "romanian",
        "russian",
        "serbian",
        "slovak",
        "slovenian",
        "spanish",
        "swahili",
        "swedish",
        "tagalog",
        "thai",
        "turkish",
        "ukrainian",
        "urdu",
        "vietnamese",
        "welsh",
    ]
)
