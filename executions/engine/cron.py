"""Cron expressions of the schedule trigger: validation, ticks in a time zone, the shortest interval.

A schedule is five fields (minute hour day-of-month month day-of-week, as
croniter reads them: names, ranges, steps, ``L`` and ``#`` allowed) evaluated
on the wall clock of an IANA time zone. Across DST changes it behaves as cron
(Vixie cron, cronie) does:

* spring forward: a time in the skipped hour fires once, right after the jump
  (``30 2 * * *`` in Europe/Paris fires at 03:00 CEST that day);
* fall back: a job with a fixed hour and minute fires once, at the first of
  the two wall-clock times; a job whose minute or hour field starts with
  ``*`` (``0 * * * *``, ``*/15 …``) fires in both passes of the repeated hour.

Every tick is answered in UTC: Python compares and subtracts two datetimes
of the *same* zone by wall clock, ignoring the offset, which would make the
two 02:30 of a fall-back night equal. Convert for display only.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import CroniterError, croniter

FIELDS = 5
# The shortest-interval scan: enough ticks and years to meet every pattern a
# five-field cron can express (leap days included) without scanning forever.
_SCAN_TICKS = 2000
_SCAN_SPAN = timedelta(days=5 * 366)
_SCAN_START = datetime(2024, 1, 1, tzinfo=UTC)


class CronError(ValueError):
    """A cron expression or time zone that cannot be used; the message says why."""


def _syntax_problem(expression: object) -> str | None:
    if not isinstance(expression, str) or len(expression.split()) != FIELDS or not croniter.is_valid(expression):
        return f"'{expression}' is not a cron expression of 5 fields (minute hour day month weekday)"
    return None


def cron_problem(expression: object) -> str | None:
    """Why ``expression`` is not a five-field cron expression that fires, or None if it is one."""
    problem = _syntax_problem(expression)
    if problem or not isinstance(expression, str):
        return problem
    try:
        # Every date a five-field cron can name comes round within eight years (29 February, across 2100).
        croniter(expression, _SCAN_START, max_years_between_matches=9).get_next(datetime)
    except CroniterError:
        return f"'{expression}' never fires: no date has that day of the month in those months (e.g. 31 February)"
    return None


def zone(name: object) -> ZoneInfo:
    """The IANA time zone ``name``; raises CronError for an unknown one."""
    try:
        if not isinstance(name, str) or not name:
            raise ValueError
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise CronError(f"'{name}' is not an IANA time zone (e.g. Europe/Paris)") from None


def _checked(expression: str) -> str:
    problem = _syntax_problem(expression)
    if problem:
        raise CronError(problem)
    return expression


def _repeats_in_second_pass(expression: str) -> bool:
    """Whether the job runs again in the repeated hour of a fall-back (its minute or hour starts with ``*``)."""
    minute, hour = expression.split()[:2]
    return minute.startswith("*") or hour.startswith("*")


def _is_second_pass(moment: datetime) -> bool:
    """True for the second occurrence of an ambiguous wall-clock time (the hour a fall-back repeats)."""
    return moment.fold == 1 and moment.replace(fold=0).utcoffset() != moment.utcoffset()


def _ticks(expression: str, tz: ZoneInfo, start: datetime, *, backwards: bool) -> Iterator[datetime]:
    cron = croniter(_checked(expression), start.astimezone(tz))
    step = cron.get_prev if backwards else cron.get_next
    keep_second_pass = _repeats_in_second_pass(expression)
    previous: datetime | None = None
    while True:
        try:
            moment = step(datetime)
        except CroniterError:  # no further tick (e.g. 30 February)
            return
        if _is_second_pass(moment) and not keep_second_pass:
            continue
        moment = moment.astimezone(UTC)
        if moment == previous:  # two wall times that the spring-forward folded into one instant
            continue
        previous = moment
        yield moment


def next_tick(expression: str, tz_name: str, after: datetime) -> datetime | None:
    """The first tick strictly after ``after`` (UTC); raises CronError for a bad cron or zone."""
    return next(_ticks(expression, zone(tz_name), after, backwards=False), None)


def previous_tick(expression: str, tz_name: str, at: datetime) -> datetime | None:
    """The most recent tick at or before ``at`` (UTC); raises CronError for a bad cron or zone."""
    tz = zone(tz_name)
    # croniter's get_prev is strict: start just after ``at`` so a tick at ``at`` itself counts.
    return next(_ticks(expression, tz, at + timedelta(microseconds=1), backwards=True), None)


def ticks_between(expression: str, tz_name: str, start: datetime, end: datetime) -> list[datetime]:
    """Every tick in (start, end], in order (UTC)."""
    out: list[datetime] = []
    for moment in _ticks(expression, zone(tz_name), start, backwards=False):
        if moment > end:
            break
        out.append(moment)
    return out


def shortest_interval(expression: str) -> timedelta | None:
    """The shortest time between two consecutive ticks (on a UTC clock), or None if it ticks at most once.

    A five-field cron never fires more often than once a minute, so callers
    with a minimum of a minute or less need not ask.
    """
    shortest: timedelta | None = None
    previous: datetime | None = None
    for count, moment in enumerate(_ticks(expression, ZoneInfo("UTC"), _SCAN_START, backwards=False)):
        if previous is not None:
            gap = moment - previous
            shortest = gap if shortest is None else min(shortest, gap)
            if shortest <= timedelta(minutes=1):
                break
        previous = moment
        if count >= _SCAN_TICKS or moment - _SCAN_START > _SCAN_SPAN:
            break
    return shortest


def beat_fields(expression: str) -> dict[str, str]:
    """The fields of a django-celery-beat ``CrontabSchedule`` that fires at least whenever ``expression`` does.

    Celery's crontab knows neither ``L``/``#``/``W`` nor cron's rule that a
    restricted day-of-month and day-of-week are OR-ed (Celery ANDs them), so
    such day fields become ``*``: beat then wakes the task on a superset of
    the ticks and the task, which computes the tick with croniter, fires only
    real ones.
    """
    cron = croniter(_checked(expression))
    minute, hour, day_of_month, month, day_of_week = cron.expanded

    def joined(values: list[Any]) -> str:
        return "*" if values == ["*"] else ",".join(str(v) for v in values)

    raw_dom, raw_dow = expression.split()[2], expression.split()[4]
    dom_plain = not any(c in raw_dom.upper() for c in "LW") and "l" not in day_of_month
    dow_plain = not any(c in raw_dow.upper() for c in "L#") and not cron.nth_weekday_of_month
    dom = joined(day_of_month) if dom_plain else "*"
    dow = joined(day_of_week) if dow_plain else "*"
    if dom != "*" and dow != "*":  # cron ORs the two, Celery ANDs them
        dom = dow = "*"
    return {
        "minute": joined(minute),
        "hour": joined(hour),
        "day_of_month": dom,
        "month_of_year": joined(month),
        "day_of_week": dow,
    }
