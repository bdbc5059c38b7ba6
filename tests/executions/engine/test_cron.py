"""Cron expressions of the schedule trigger: ticks across DST (Europe/Paris), shortest intervals, beat's fields."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django_celery_beat.tzcrontab import TzAwareCrontab

from executions.engine import cron

PARIS = ZoneInfo("Europe/Paris")


def local(ticks: list[datetime]) -> list[str]:
    return [t.astimezone(PARIS).isoformat() for t in ticks]


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


class TestDaylightSaving:
    """2025-03-30: 02:00 CET → 03:00 CEST. 2025-10-26: 03:00 CEST → 02:00 CET."""

    def test_spring_forward_a_time_in_the_gap_fires_right_after_the_jump(self):
        ticks = cron.ticks_between("30 2 * * *", "Europe/Paris", utc(2025, 3, 29, 0), utc(2025, 3, 31, 12))
        assert local(ticks) == ["2025-03-29T02:30:00+01:00", "2025-03-30T03:00:00+02:00", "2025-03-31T02:30:00+02:00"]

    def test_spring_forward_two_times_folded_into_one_instant_fire_once(self):
        ticks = cron.ticks_between("0 2,3 * * *", "Europe/Paris", utc(2025, 3, 29, 12), utc(2025, 3, 30, 12))
        assert local(ticks) == ["2025-03-30T03:00:00+02:00"]

    def test_spring_forward_every_half_hour(self):
        ticks = cron.ticks_between("*/30 1-3 * * *", "Europe/Paris", utc(2025, 3, 29, 23), utc(2025, 3, 30, 2))
        assert local(ticks) == [
            "2025-03-30T01:00:00+01:00",
            "2025-03-30T01:30:00+01:00",
            "2025-03-30T03:00:00+02:00",
            "2025-03-30T03:30:00+02:00",
        ]

    def test_fall_back_a_fixed_time_fires_once(self):
        ticks = cron.ticks_between("30 2 * * *", "Europe/Paris", utc(2025, 10, 25, 12), utc(2025, 10, 27, 12))
        assert local(ticks) == ["2025-10-26T02:30:00+02:00", "2025-10-27T02:30:00+01:00"]

    def test_fall_back_a_wildcard_hour_fires_in_both_passes(self):
        ticks = cron.ticks_between("0 * * * *", "Europe/Paris", utc(2025, 10, 25, 23), utc(2025, 10, 26, 2))
        assert local(ticks) == [
            "2025-10-26T02:00:00+02:00",
            "2025-10-26T02:00:00+01:00",
            "2025-10-26T03:00:00+01:00",
        ]
        assert ticks[1] - ticks[0] == timedelta(hours=1)  # real instants, an hour apart

    def test_fall_back_a_wildcard_minute_fires_in_both_passes(self):
        ticks = cron.ticks_between("*/30 2 * * *", "Europe/Paris", utc(2025, 10, 25, 23), utc(2025, 10, 26, 2))
        assert local(ticks) == [
            "2025-10-26T02:00:00+02:00",
            "2025-10-26T02:30:00+02:00",
            "2025-10-26T02:00:00+01:00",
            "2025-10-26T02:30:00+01:00",
        ]

    def test_previous_tick_in_the_second_pass(self):
        at = utc(2025, 10, 26, 1, 40)  # 02:40 CET, the second pass
        assert local([cron.previous_tick("30 2 * * *", "Europe/Paris", at)]) == ["2025-10-26T02:30:00+02:00"]
        assert local([cron.previous_tick("0 * * * *", "Europe/Paris", at)]) == ["2025-10-26T02:00:00+01:00"]

    def test_previous_tick_includes_now(self):
        assert cron.previous_tick("0 * * * *", "UTC", utc(2025, 1, 1, 10)) == utc(2025, 1, 1, 10)
        assert cron.next_tick("0 * * * *", "UTC", utc(2025, 1, 1, 10)) == utc(2025, 1, 1, 11)

    def test_ticks_are_utc(self):
        tick = cron.next_tick("0 9 * * *", "Asia/Tokyo", utc(2025, 1, 1))
        assert (tick.tzinfo, tick) == (UTC, utc(2025, 1, 2, 0))


class TestValidation:
    @pytest.mark.parametrize("expression", ["61 * * * *", "every day", "* * * * * *", "* * * *", "@daily", "", None, 5])
    def test_bad_expressions(self, expression):
        assert "not a cron expression of 5 fields" in cron.cron_problem(expression)

    @pytest.mark.parametrize("expression", ["0 9 31 2 *", "0 9 30 2 *", "0 0 31 4,6,9,11 *"])
    def test_expressions_that_never_fire(self, expression):
        assert cron.cron_problem(expression) == (
            f"'{expression}' never fires: no date has that day of the month in those months (e.g. 31 February)"
        )

    @pytest.mark.parametrize(
        "expression",
        ["0 9 * * 1-5", "*/15 * * * *", "0 0 L * *", "0 0 * * 5#3", "0 0 1 jan,jul *", "0 0 29 2 *", "0 9 31 2 1"],
    )
    def test_good_expressions(self, expression):
        assert cron.cron_problem(expression) is None

    @pytest.mark.parametrize("name", ["Mars/Olympus", "", None, "../etc/passwd"])
    def test_unknown_zones(self, name):
        with pytest.raises(cron.CronError, match="IANA"):
            cron.zone(name)

    def test_a_date_that_never_comes(self):
        assert cron.next_tick("0 0 30 2 *", "UTC", utc(2025, 1, 1)) is None


class TestShortestInterval:
    @pytest.mark.parametrize(
        ("expression", "shortest"),
        [
            ("* * * * *", timedelta(minutes=1)),
            ("*/5 * * * *", timedelta(minutes=5)),
            ("0,1 9 * * *", timedelta(minutes=1)),
            ("0 */2 * * *", timedelta(hours=2)),
            ("0 9 * * 1-5", timedelta(days=1)),
            ("0 0,23 * * *", timedelta(hours=1)),  # 23:00 → 00:00 the next day
            ("59 23 31 12 *", timedelta(days=365)),
            ("0 0 29,1 2,3 *", timedelta(days=1)),  # 29 Feb → 1 Mar, only in leap years
        ],
    )
    def test_shortest(self, expression, shortest):
        assert cron.shortest_interval(expression) == shortest


class TestBeatFields:
    @pytest.mark.parametrize(
        "expression",
        ["*/15 9-17 * * mon-fri", "0 9 1 * 1", "0 0 L * *", "0 0 * * 5#3", "30 2 * * *", "0 8 1,15 jan,jul *"],
    )
    def test_beat_wakes_up_at_every_tick(self, expression):
        """Celery's crontab built from the fields is due at (or before) each croniter tick: a superset."""
        fields = cron.beat_fields(expression)
        schedule = TzAwareCrontab(tz=ZoneInfo("America/New_York"), **fields)
        ticks = cron.ticks_between(expression, "America/New_York", utc(2025, 5, 1), utc(2026, 5, 1))[:200]
        assert ticks
        for tick in ticks:
            last_run = (tick - timedelta(seconds=1)).astimezone(ZoneInfo("America/New_York"))
            last, delta, _ = schedule.remaining_delta(last_run)
            assert last + delta <= tick, (expression, tick)

    def test_plain_fields_are_mirrored(self):
        assert cron.beat_fields("*/20 9-11 * jan,jul mon-fri") == {
            "minute": "0,20,40",
            "hour": "9,10,11",
            "day_of_month": "*",
            "month_of_year": "1,7",
            "day_of_week": "1,2,3,4,5",
        }

    def test_sunday_as_7(self):
        assert cron.beat_fields("0 9 * * 7")["day_of_week"] == "0"
