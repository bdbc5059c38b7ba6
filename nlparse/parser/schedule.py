"""Recurrence phrases to a cron expression and a time zone.

The grammar collects the parts of a schedule ("every 15 minutes", "on
weekdays", "at 9am", "Paris time") into a :class:`Recurrence`; :meth:`to_cron`
turns them into the five cron fields the ``trigger.schedule`` node takes,
with a note for every assumption (no time given → midnight) and every
approximation cron forces (every 7 minutes restarts at each hour).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from croniter import croniter

from nlparse.parser.ir import Note, Span

UNIT_SECONDS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800, "month": 2_592_000}


_UNIT_WORDS = {
    "second": ("s", "sec", "secs", "second", "seconds"),
    "minute": ("m", "min", "mins", "minute", "minutes"),
    "hour": ("h", "hr", "hrs", "hour", "hours"),
    "day": ("d", "day", "days"),
    "week": ("w", "wk", "wks", "week", "weeks"),
    "month": ("month", "months"),
}
UNIT_OF_WORD = {word: unit for unit, words in _UNIT_WORDS.items() for word in words}


@dataclass
class Recurrence:
    """The parts of a schedule phrase, as the grammar found them."""

    span: Span
    every: tuple[float, str] | None = None  # (count, unit): every 15 minutes
    days_of_week: list[int] = field(default_factory=list)
    day_of_month: int | None = None
    more_days_of_month: list[int] = field(default_factory=list)  # "on the 1st and 15th"
    month: int | None = None
    times: list[tuple[int, int]] = field(default_factory=list)
    hour_range: tuple[int, int] | None = None
    timezone: str | None = None
    daily: bool = False
    per_day: int | None = None  # "twice a day", "3 times a day"
    minute: int | None = None  # "every hour at minute 15"
    default_time: tuple[tuple[int, int], str] | None = None  # "every morning": 09:00 unless a time is given
    notes: list[Note] = field(default_factory=list)

    def note(self, message: str) -> None:
        self.notes.append(Note(message, self.span))

    def to_cron(self) -> str:
        """Five cron fields; adds notes for assumptions and approximations."""
        minute, hour, dom, month, dow = "0", "0", "*", "*", "*"
        if self.days_of_week:
            dow = _dow_field(self.days_of_week)
        if self.day_of_month is not None:
            dom = ",".join(str(d) for d in sorted({self.day_of_month, *self.more_days_of_month}))
        if self.month is not None:
            month = str(self.month)
            if self.day_of_month is None:
                dom = "1"
        if self.every is not None:
            count, unit = self.every
            n = max(1, round(count))
            if count != n:
                self.note(f"Cron cannot run every {count:g} {unit}s; using every {n}")
            if unit == "second":
                self.note("Cron runs at most once a minute; using every minute")
                minute, hour = "*", "*"
            elif unit == "minute":
                if n >= 60:
                    hours = max(1, round(n / 60))
                    if n % 60:
                        self.note(f"Cron cannot run every {n} minutes; using every {hours} hours")
                    minute, hour = "0", _step(hours, 24, self)
                else:
                    minute, hour = _step(n, 60, self), "*"
            elif unit == "hour":
                minute = str(self.minute if self.minute is not None else self.times[0][1] if self.times else 0)
                hour = _step(n, 24, self)
            elif unit == "day":
                minute, hour = self._time_fields()
                if n > 1:
                    dom = f"*/{n}"
                    self.note(f"Every {n} days restarts on the 1st of each month (cron counts days of the month)")
            elif unit == "week":
                minute, hour = self._time_fields()
                if not self.days_of_week:
                    dow = "1"
                    self.note("No day given for a weekly schedule; it runs on Mondays")
                if n > 1:
                    self.note(f"Cron cannot skip weeks; this runs every week, not every {n} weeks")
            elif unit == "month":
                minute, hour = self._time_fields()
                if self.day_of_month is None:
                    dom = "1"
                    if not self.days_of_week:
                        self.note("No day given for a monthly schedule; it runs on the 1st")
                if n > 1:
                    month = f"*/{n}"
        else:
            minute, hour = self._time_fields()
        if self.hour_range is not None and self.every is not None and self.every[1] in ("minute", "hour"):
            start, end = self.hour_range
            hour = f"{start}-{end - 1}" if self.every[1] == "minute" and end > start else f"{start}-{end}"
            if self.every[1] == "hour" and self.every[0] > 1:
                hour = f"{start}-{end}/{round(self.every[0])}"
        cron = f"{minute} {hour} {dom} {month} {dow}"
        if not croniter.is_valid(cron):  # pragma: no cover - the fields above are always valid
            raise ValueError(f"built an invalid cron expression {cron!r}")
        return cron

    def _time_fields(self) -> tuple[str, str]:
        if not self.times and self.default_time is not None:
            time, message = self.default_time
            self.times.append(time)
            self.note(message)
        if not self.times and self.per_day:
            # As many runs as asked, spread over the working day from 09:00 (twice: 09:00 and 17:00).
            hours = [9 + round(i * 8 / (self.per_day - 1)) for i in range(self.per_day)] if self.per_day > 1 else [9]
            if self.per_day > 9:
                hours = [round(i * 24 / self.per_day) for i in range(self.per_day)]
            self.times.extend((hour, 0) for hour in hours)
            self.note(f"No times given; it runs at {', '.join(f'{h:02d}:00' for h in hours)}")
        if self.per_day and self.times and len(self.times) != self.per_day:
            self.note(f"{self.per_day} times a day, but {len(self.times)} times given; it runs at the times given")
        if not self.times:
            self.note("No time given; it runs at midnight (00:00)")
            return "0", "0"
        minutes = {m for _, m in self.times}
        if len(minutes) > 1:
            self.note("Several times with different minutes; cron uses the first time's minute for all")
        hours = sorted({h for h, _ in self.times})
        return str(self.times[0][1]), ",".join(map(str, hours))


def _step(n: int, period: int, recurrence: Recurrence) -> str:
    if n <= 1:
        return "*"
    if period % n:
        recurrence.note(f"Every {n} restarts at each {'hour' if period == 60 else 'day'}: cron steps within it")
    return f"*/{n}"


def _dow_field(days: list[int]) -> str:
    unique = sorted(set(days))
    if unique == [1, 2, 3, 4, 5]:
        return "1-5"
    return ",".join(map(str, unique))


def clock(text: str) -> tuple[int, int] | None:
    """``"9am"`` → (9, 0); ``"8:30"`` → (8, 30); ``"noon"`` → (12, 0); None if it is not a time of day."""
    raw = text.strip().lower().replace(" ", "")
    if raw in ("noon", "midday"):
        return 12, 0
    if raw == "midnight":
        return 0, 0
    suffix = None
    for marker in ("a.m.", "p.m.", "am", "pm", "a.m", "p.m"):
        if raw.endswith(marker):
            suffix, raw = marker[0], raw[: -len(marker)]
            break
    for separator in (":", ".", "h"):
        if separator in raw:
            hour_text, minute_text = raw.split(separator, 1)
            break
    else:
        hour_text, minute_text = raw, "0"
    if not hour_text.isdigit() or not (minute_text or "0").isdigit():
        return None
    hour, minute = int(hour_text), int(minute_text or 0)
    if suffix is not None:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if suffix == "p" else 0)
    if hour > 23 or minute > 59:
        return None
    return hour, minute
