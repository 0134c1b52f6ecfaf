"""Working-time arithmetic: examples, edge cases and properties.

The property tests compare against a deliberately simple reference that reads
``holidays.China`` directly and knows the default hours by heart, so a bug in
WorkingCalendar's day planning or caching cannot hide in both.
"""

from __future__ import annotations

import dataclasses
import itertools
import time as timer
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import holidays
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from cswork import Engine
from cswork.calendar import AddExplanation, SkippedDay, WorkingCalendar
from cswork.definition import load_paths
from cswork.definition.model import CalendarDef
from cswork.errors import ClockError, DefinitionError, Problem
from cswork.storage import SQLiteStore

SH = ZoneInfo("Asia/Shanghai")
BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
CN = WorkingCalendar()


def sh(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=SH)


def berlin(y: int, mo: int, d: int, h: int = 0, mi: int = 0) -> datetime:
    return datetime(y, mo, d, h, mi, tzinfo=BERLIN)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


def every_day(*spans: tuple[time, time]) -> dict[int, list[tuple[time, time]]]:
    return {wd: list(spans) for wd in range(7)}


def holiday_name(country: str, day: date) -> str:
    """The name the holidays package gives a day: its wording changes between
    releases, so tests compare with it instead of spelling it out."""
    return str(holidays.country_holidays(country, years=day.year)[day])


# A year whose make-up working days China has not published: each year's come
# out in the autumn before, and the holidays package adds them a release later.
UNPUBLISHED = 2040


# ------------------------------------------------------------------ examples
@pytest.mark.parametrize(
    ("start", "delta", "due"),
    [
        # the acceptance examples
        (sh(2026, 3, 3, 22), hours(1), sh(2026, 3, 4, 10)),
        (sh(2026, 3, 6, 17, 30), hours(1), sh(2026, 3, 9, 9, 30)),
        (sh(2026, 2, 13, 16), hours(4), sh(2026, 2, 14, 11)),  # Sat make-up day
        (sh(2026, 2, 14, 17), hours(8), sh(2026, 2, 24, 17)),  # over Spring Festival
        # lunch break
        (sh(2026, 3, 4, 11, 30), hours(1), sh(2026, 3, 4, 13, 30)),
        (sh(2026, 3, 4, 12, 15), hours(1), sh(2026, 3, 4, 14)),  # start in the break
        (sh(2026, 3, 4, 11), hours(1), sh(2026, 3, 4, 12)),  # ends as the break starts
        # the earliest instant: the end of the day, not the next morning
        (sh(2026, 3, 6, 17, 30), timedelta(minutes=30), sh(2026, 3, 6, 18)),
        (sh(2026, 3, 4, 7), hours(1), sh(2026, 3, 4, 10)),  # before opening
        (sh(2026, 3, 7, 10), hours(1), sh(2026, 3, 9, 10)),  # start on a weekend
        (sh(2026, 10, 1, 10), hours(1), sh(2026, 10, 8, 10)),  # on National Day
        (sh(2026, 4, 30, 17), hours(2), sh(2026, 5, 6, 10)),  # over Labor Day
        (sh(2026, 1, 3, 12), hours(2), sh(2026, 1, 4, 11)),  # Sun 01-04 is working
        (sh(2026, 3, 2, 9), hours(40), sh(2026, 3, 6, 18)),  # five working days
        (
            sh(2026, 3, 2, 9),
            timedelta(seconds=1),
            datetime(2026, 3, 2, 1, 0, 1, tzinfo=UTC),
        ),
    ],
)
def test_add_examples(start: datetime, delta: timedelta, due: datetime) -> None:
    result = CN.add(start, delta)
    assert result == due
    assert result.tzinfo is UTC
    assert CN.working_time_between(start, result) == delta


def test_add_accepts_any_zone_and_returns_utc() -> None:
    start = datetime(2026, 3, 6, 9, 30, tzinfo=UTC)  # Fri 17:30 in Shanghai
    assert CN.add(start, hours(1)) == datetime(2026, 3, 9, 1, 30, tzinfo=UTC)
    fixed = datetime(2026, 3, 6, 17, 30, tzinfo=timezone(timedelta(hours=8)))
    assert CN.add(fixed, hours(1)) == sh(2026, 3, 9, 9, 30)


def test_delta_zero_returns_start_even_outside_working_time() -> None:
    for start in (sh(2026, 3, 7, 10), sh(2026, 2, 17, 3), sh(2026, 3, 4, 10)):
        result = CN.add(start, timedelta(0))
        assert result == start
        assert result.tzinfo is UTC


def test_negative_delta_is_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        CN.add(sh(2026, 3, 4, 10), -timedelta(seconds=1))
    with pytest.raises(ValueError, match="negative"):
        CN.explain_add(sh(2026, 3, 4, 10), -hours(1))


def test_naive_datetimes_raise_clock_error() -> None:
    naive = datetime(2026, 3, 4, 10)
    aware = sh(2026, 3, 4, 10)
    calls: list[Callable[[], object]] = [
        lambda: CN.add(naive, hours(1)),
        lambda: CN.explain_add(naive, hours(1)),
        lambda: CN.working_time_between(naive, aware),
        lambda: CN.working_time_between(aware, naive),
        lambda: CN.is_working_time(naive),
        lambda: CN.next_working_time(naive),
    ]
    for call in calls:
        with pytest.raises(ClockError, match="timezone-aware"):
            call()
    assert issubclass(ClockError, ValueError)


def test_working_days() -> None:
    assert CN.is_working_day(date(2026, 3, 9))
    assert not CN.is_working_day(date(2026, 3, 7))  # Saturday
    assert CN.is_working_day(date(2026, 2, 14))  # make-up Saturday
    assert CN.is_working_day(date(2026, 1, 4))  # make-up Sunday
    for day in range(15, 24):  # the Spring Festival break has no working day
        assert not CN.is_working_day(date(2026, 2, day))
    assert CN.is_working_day(date(2026, 2, 24))
    makeup = [
        date(2026, m, d)
        for m, d in ((1, 4), (2, 14), (2, 28), (5, 9), (9, 20), (10, 10))
    ]
    weekend_working = [
        d
        for d in (date(2026, 1, 1) + timedelta(n) for n in range(365))
        if d.weekday() >= 5 and CN.is_working_day(d)
    ]
    assert weekend_working == makeup


def test_intervals() -> None:
    assert CN.intervals(date(2026, 3, 4)) == [
        (sh(2026, 3, 4, 9), sh(2026, 3, 4, 12)),
        (sh(2026, 3, 4, 13), sh(2026, 3, 4, 18)),
    ]
    assert all(
        s.tzinfo is UTC and e.tzinfo is UTC for s, e in CN.intervals(date(2026, 3, 4))
    )
    assert CN.intervals(date(2026, 3, 7)) == []
    assert CN.intervals(date(2026, 2, 17)) == []
    # a make-up day gets Monday's hours
    assert CN.intervals(date(2026, 2, 14)) == [
        (sh(2026, 2, 14, 9), sh(2026, 2, 14, 12)),
        (sh(2026, 2, 14, 13), sh(2026, 2, 14, 18)),
    ]


def test_is_working_time_uses_half_open_intervals() -> None:
    assert CN.is_working_time(sh(2026, 3, 4, 9))
    assert CN.is_working_time(sh(2026, 3, 4, 11, 59))
    assert not CN.is_working_time(sh(2026, 3, 4, 12))
    assert not CN.is_working_time(sh(2026, 3, 4, 18))
    assert not CN.is_working_time(sh(2026, 3, 4, 8, 59))
    assert not CN.is_working_time(sh(2026, 2, 17, 10))  # Spring Festival
    assert CN.is_working_time(sh(2026, 2, 14, 10))  # make-up Saturday


def test_next_working_time() -> None:
    assert CN.next_working_time(sh(2026, 3, 4, 10)) == sh(2026, 3, 4, 10)
    assert CN.next_working_time(sh(2026, 3, 4, 12, 30)) == sh(2026, 3, 4, 13)
    assert CN.next_working_time(sh(2026, 3, 6, 18)) == sh(2026, 3, 9, 9)
    assert CN.next_working_time(sh(2026, 2, 14, 18)) == sh(2026, 2, 24, 9)
    assert CN.next_working_time(sh(2026, 3, 4, 10)).tzinfo is UTC


def test_working_time_between() -> None:
    assert CN.working_time_between(sh(2026, 3, 6, 17), sh(2026, 3, 9, 10)) == hours(2)
    assert CN.working_time_between(sh(2026, 3, 9, 10), sh(2026, 3, 6, 17)) == -hours(2)
    assert CN.working_time_between(sh(2026, 3, 4, 10), sh(2026, 3, 4, 10)) == timedelta(
        0
    )
    assert CN.working_time_between(sh(2026, 3, 2), sh(2026, 3, 9)) == hours(40)
    assert CN.working_time_between(
        sh(2026, 2, 14, 18), sh(2026, 2, 24, 9)
    ) == timedelta(0)


# --------------------------------------------------- holidays and overrides
def test_extra_holidays_and_working_days() -> None:
    cal = WorkingCalendar(
        extra_holidays=[date(2026, 3, 4)],
        extra_working_days=[date(2026, 3, 7), date(2026, 2, 17)],
    )
    assert cal.add(sh(2026, 3, 3, 17), hours(2)) == sh(2026, 3, 5, 10)
    assert cal.add(sh(2026, 3, 6, 17), hours(2)) == sh(2026, 3, 7, 10)  # Saturday works
    assert cal.is_working_day(date(2026, 2, 17))  # beats the public holiday
    assert not cal.is_working_day(date(2026, 3, 4))
    ex = cal.explain_add(sh(2026, 3, 3, 17), hours(2))
    assert ex.skipped == (SkippedDay(date(2026, 3, 4), "extra holiday"),)
    # the unmodified calendar is unaffected
    assert CN.add(sh(2026, 3, 3, 17), hours(2)) == sh(2026, 3, 4, 10)


def test_extra_working_day_on_a_weekday_keeps_its_own_hours() -> None:
    cal = WorkingCalendar(
        hours={0: [(time(8), time(9))], 1: [(time(14), time(16))]},
        extra_working_days=[date(2026, 2, 17)],  # a Tuesday in Spring Festival
    )
    assert cal.intervals(date(2026, 2, 17)) == [
        (sh(2026, 2, 17, 14), sh(2026, 2, 17, 16))
    ]


def test_makeup_weekday_chooses_the_hours_of_a_makeup_day() -> None:
    cal = WorkingCalendar(
        hours={0: [(time(9), time(18))], 4: [(time(10), time(12))]}, makeup_weekday=4
    )
    assert cal.intervals(date(2026, 2, 14)) == [
        (sh(2026, 2, 14, 10), sh(2026, 2, 14, 12))
    ]
    assert cal.day_length == hours(9)


def test_a_weekend_with_own_hours_keeps_them_on_a_makeup_day() -> None:
    cal = WorkingCalendar(
        hours={
            **{wd: [(time(9), time(18))] for wd in range(5)},
            5: [(time(10), time(14))],
        }
    )
    assert cal.intervals(date(2026, 2, 14)) == [
        (sh(2026, 2, 14, 10), sh(2026, 2, 14, 14))
    ]
    ex = cal.explain_add(sh(2026, 2, 14, 10), hours(1))
    assert ex.makeup_days == ()  # an ordinary working Saturday here


def test_no_country_means_weekdays_only() -> None:
    cal = WorkingCalendar(country=None)
    assert cal.is_working_day(date(2026, 2, 17))
    assert not cal.is_working_day(date(2026, 2, 14))
    assert cal.covers(2027)


def test_no_working_time_for_years_raises() -> None:
    mondays = [date(2026, 1, 5) + timedelta(weeks=n) for n in range(4 * 53)]
    cal = WorkingCalendar(
        country=None, hours={0: [(time(9), time(10))]}, extra_holidays=mondays
    )
    with pytest.raises(ValueError, match="calendar has no working time after"):
        cal.add(sh(2026, 1, 1), hours(1))
    with pytest.raises(ValueError, match="calendar has no working time after"):
        cal.next_working_time(sh(2026, 1, 1))
    # and the walk stops after about three years, not forty
    assert cal.working_time_between(sh(2026, 1, 1), sh(2031, 1, 1)) > timedelta(0)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"timezone": "Mars/Olympus"}, "time zone"),
        ({"country": "XX"}, "no country"),
        ({"hours": {}}, "no working hours"),
        ({"hours": {7: [(time(9), time(10))]}}, "weekday"),
        ({"hours": {0: [(time(10), time(9))]}}, "ends before"),
        ({"hours": {0: [(time(9), time(12)), (time(11), time(13))]}}, "overlaps"),
        ({"makeup_weekday": 7}, "makeup_weekday"),
        ({"day_length": timedelta(0)}, "day_length"),
    ],
)
def test_invalid_calendars(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WorkingCalendar(**kwargs)  # type: ignore[arg-type]


def test_day_length() -> None:
    assert CN.day_length == hours(8)
    long_monday = WorkingCalendar(
        hours={0: [(time(8), time(20))], 1: [(time(9), time(10))]}
    )
    assert long_monday.day_length == hours(12)
    assert WorkingCalendar(day_length=hours(7.5)).day_length == hours(7.5)
    assert WorkingCalendar(hours=every_day((time(0), time(0)))).day_length == hours(24)


# ----------------------------------------------------------------- DST
def test_dst_spring_forward_day_has_23_real_hours() -> None:
    cal = WorkingCalendar(
        timezone="Europe/Berlin", country=None, hours=every_day((time(0), time(0)))
    )
    ((s, e),) = cal.intervals(date(2026, 3, 29))
    assert e - s == hours(23)
    assert cal.working_time_between(berlin(2026, 3, 28), berlin(2026, 3, 30)) == hours(
        47
    )
    # 24 real hours after Saturday noon is 13:00 local on Sunday
    assert cal.add(berlin(2026, 3, 28, 12), hours(24)) == berlin(2026, 3, 29, 13)
    assert cal.add(berlin(2026, 3, 29, 0), hours(23)) == berlin(2026, 3, 30, 0)


def test_dst_fall_back_day_has_25_real_hours() -> None:
    cal = WorkingCalendar(
        timezone="Europe/Berlin", country=None, hours=every_day((time(0), time(0)))
    )
    ((s, e),) = cal.intervals(date(2026, 10, 25))
    assert e - s == hours(25)
    assert cal.add(berlin(2026, 10, 24, 12), hours(24)) == berlin(2026, 10, 25, 11)


def test_dst_night_shift_counts_real_time() -> None:
    cal = WorkingCalendar(
        timezone="Europe/Berlin", country=None, hours=every_day((time(1), time(5)))
    )
    ((s, e),) = cal.intervals(date(2026, 3, 29))
    assert e - s == hours(3)  # 01:00 CET to 05:00 CEST
    assert cal.add(berlin(2026, 3, 29, 1), hours(4)) == berlin(2026, 3, 30, 2)
    ((s, e),) = cal.intervals(date(2026, 10, 25))
    assert e - s == hours(5)  # 02:00-03:00 happens twice
    assert cal.add(berlin(2026, 10, 25, 1), hours(5)) == berlin(2026, 10, 25, 5)
    assert cal.working_time_between(berlin(2026, 3, 28), berlin(2026, 3, 31)) == hours(
        11
    )


def test_dst_gap_never_counts_an_instant_twice() -> None:
    # 02:00-03:00 does not exist on 2026-03-29 in Berlin: 02:50 maps to 01:50 UTC
    # but 03:00 to 01:00 UTC, so the two local intervals overlap in real time
    cal = WorkingCalendar(
        timezone="Europe/Berlin",
        country=None,
        hours=every_day((time(1), time(2, 50)), (time(3), time(4))),
    )
    for n in range(365):
        spans = cal.intervals(date(2026, 1, 1) + timedelta(n))
        assert all(s < e for s, e in spans)
        assert all(e1 <= s2 for (_, e1), (s2, _) in itertools.pairwise(spans))
    day = (berlin(2026, 3, 29), berlin(2026, 3, 30))
    assert cal.working_time_between(*day) == hours(2)  # 01:00 CET to 04:00 CEST
    assert cal.working_time_between(berlin(2026, 3, 30), berlin(2026, 3, 31)) == hours(
        2 + 50 / 60
    )
    assert cal.add(berlin(2026, 3, 29, 0), hours(2)) == berlin(2026, 3, 29, 4)


# ------------------------------------------------------------ definitions
def test_working_calendar_from_definition() -> None:
    d = CalendarDef.model_validate(
        {
            "calendar": "berlin_support",
            "timezone": "Europe/Berlin",
            "country": "DE",
            "hours": {"mon": ["08:00-12:00", "13:00-17:00"], "sat": ["20:00-24:00"]},
            "makeup_hours": "sat",
            "holidays": ["2026-03-02"],
            "working_days": ["2026-03-08"],
            "day_length": "7h30m",
            "data_years": [2026, 2027],
        }
    )
    cal = d.working_calendar()
    assert cal.name == "berlin_support"
    assert cal.tz == BERLIN
    assert cal.day_length == hours(7.5)
    assert cal.intervals(date(2026, 3, 9)) == [
        (berlin(2026, 3, 9, 8), berlin(2026, 3, 9, 12)),
        (berlin(2026, 3, 9, 13), berlin(2026, 3, 9, 17)),
    ]
    assert cal.intervals(date(2026, 3, 7)) == [
        (berlin(2026, 3, 7, 20), berlin(2026, 3, 8))
    ]
    assert cal.intervals(date(2026, 3, 2)) == []  # extra holiday
    assert cal.intervals(date(2026, 3, 8)) == [
        (berlin(2026, 3, 8, 20), berlin(2026, 3, 9))
    ]
    assert not cal.is_working_day(date(2026, 4, 6))  # Easter Monday
    ex = cal.explain_add(berlin(2026, 4, 4, 23), hours(3))
    easter_monday = date(2026, 4, 6)
    reason = f"public holiday: {holiday_name('DE', easter_monday)}"
    assert SkippedDay(easter_monday, reason) in ex.skipped
    assert ex.due == berlin(2026, 4, 11, 22)  # 1h Sat, Sun/Mon off, 2h next Sat
    assert SkippedDay(date(2026, 4, 10), "no working hours on Fri") in ex.skipped
    assert cal.covers(2027)
    assert not cal.covers(2028)


def test_from_default_definition_matches_default_calendar() -> None:
    cal = CalendarDef.model_validate({"calendar": "x"}).working_calendar()
    assert cal.day_length == hours(8)
    for start in (sh(2026, 2, 13, 16), sh(2026, 3, 6, 17, 30), sh(2026, 9, 19, 10)):
        assert cal.add(start, hours(9)) == CN.add(start, hours(9))


def test_24_30_is_refused_by_the_definition_and_the_calendar() -> None:
    with pytest.raises(ValueError, match="24:30"):
        CalendarDef.model_validate({"calendar": "x", "hours": {"mon": ["09:00-24:30"]}})
    d = CalendarDef.model_construct(calendar="x", hours={"mon": ["09:00-24:30"]})
    with pytest.raises(ValueError, match="24:30"):
        d.working_calendar()


# --------------------------------------------------------------- explain
def test_explain_friday_evening() -> None:
    ex = CN.explain_add(sh(2026, 3, 6, 17, 30), hours(1))
    assert isinstance(ex, AddExplanation)
    assert ex.start == sh(2026, 3, 6, 17, 30)
    assert ex.delta == hours(1)
    assert ex.due == sh(2026, 3, 9, 9, 30)
    assert ex.segments == (
        (sh(2026, 3, 6, 17, 30), sh(2026, 3, 6, 18)),
        (sh(2026, 3, 9, 9), sh(2026, 3, 9, 9, 30)),
    )
    assert ex.skipped == (
        SkippedDay(date(2026, 3, 7), "weekend"),
        SkippedDay(date(2026, 3, 8), "weekend"),
    )
    assert ex.makeup_days == ()
    assert ex.uncovered_years == ()
    assert ex.lines() == [
        "add 1h of working time",
        "start Fri 2026-03-06 17:30 +08:00",
        "used Fri 2026-03-06 17:30–18:00 (30m)",
        "skipped Sat 2026-03-07: weekend",
        "skipped Sun 2026-03-08: weekend",
        "used Mon 2026-03-09 09:00–09:30 (30m)",
        "due Mon 2026-03-09 09:30 +08:00",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        ex.due = ex.start  # type: ignore[misc]


def test_explain_spring_festival() -> None:
    ex = CN.explain_add(sh(2026, 2, 14, 17), hours(8))
    assert ex.due == sh(2026, 2, 24, 17)
    assert [s.day for s in ex.skipped] == [date(2026, 2, d) for d in range(15, 24)]
    reasons = {s.day.day: s.reason for s in ex.skipped}
    assert reasons[15] == reasons[21] == reasons[22] == "weekend"
    for day in (16, 17, 18, 19, 20, 23):
        assert reasons[day].startswith("public holiday: ")
    assert reasons[17] == f"public holiday: {holiday_name('CN', date(2026, 2, 17))}"
    assert ex.makeup_days == (date(2026, 2, 14),)
    assert sum((e - s for s, e in ex.segments), timedelta(0)) == hours(8)
    lines = ex.lines()
    assert lines[1] == "start Sat 2026-02-14 17:00 +08:00"
    assert lines[2] == "used Sat 2026-02-14 17:00–18:00 (1h, make-up working day)"
    assert f"skipped Tue 2026-02-17: {reasons[17]}" in lines
    assert lines[-1] == "due Tue 2026-02-24 17:00 +08:00"


def test_explain_due_on_makeup_day() -> None:
    ex = CN.explain_add(sh(2026, 2, 13, 16), hours(4))
    assert ex.lines()[-1] == "due Sat 2026-02-14 11:00 +08:00 (make-up working day)"
    assert ex.skipped == ()


def test_explain_start_on_a_day_off() -> None:
    ex = CN.explain_add(sh(2026, 3, 8, 10), timedelta(0))
    assert ex.due == sh(2026, 3, 8, 10)
    assert ex.segments == ()
    assert ex.skipped == (SkippedDay(date(2026, 3, 8), "weekend"),)
    ex = CN.explain_add(sh(2026, 3, 8, 10), hours(1))
    assert ex.skipped == (SkippedDay(date(2026, 3, 8), "weekend"),)


def test_explain_into_an_uncovered_year() -> None:
    year = UNPUBLISHED
    ex = CN.explain_add(sh(year - 1, 12, 31, 16), hours(4))
    assert ex.uncovered_years == (year - 1, year)
    assert ex.lines()[-1] == (
        f"warning: holiday data for {year} is not known to be complete"
    )
    covered = WorkingCalendar(data_years=[2026])  # the covered years, declared
    ex = covered.explain_add(sh(2026, 12, 31, 16), hours(4))
    assert ex.uncovered_years == (2027,)


def test_explain_shows_24_00() -> None:
    cal = WorkingCalendar(country=None, hours=every_day((time(20), time(0))))
    lines = cal.explain_add(sh(2026, 3, 4, 22), hours(3)).lines()
    assert "used Wed 2026-03-04 22:00–24:00 (2h)" in lines
    assert lines[-1] == "due Thu 2026-03-05 21:00 +08:00"


# ---------------------------------------------------------------- covers
def test_covers() -> None:
    assert CN.covers(2026)
    assert not CN.covers(UNPUBLISHED)  # no make-up days published for it yet
    assert WorkingCalendar(data_years=[2027]).covers(2027)
    assert not WorkingCalendar(data_years=[2027]).covers(2026)
    assert WorkingCalendar(extra_working_days=[date(2027, 2, 20)]).covers(2027)
    assert WorkingCalendar(extra_holidays=[date(2027, 2, 11)]).covers(2027)
    assert WorkingCalendar(country=None).covers(2027)
    germany = WorkingCalendar(timezone="Europe/Berlin", country="DE")
    assert germany.covers(2027)  # Germany never declares weekend days working


@pytest.mark.benchmark
def test_add_is_fast() -> None:
    starts = [sh(2026, 1, 1) + timedelta(minutes=37 * n) for n in range(2000)]
    CN.add(starts[0], hours(40))
    began = timer.perf_counter()
    for start in starts:
        CN.add(start, hours(40))
    # measured ~4 µs per call; 250 µs only catches an algorithmic regression
    assert (timer.perf_counter() - began) / len(starts) < 250e-6


# ------------------------------------------------------- the reference
_CN_DATA = holidays.country_holidays("CN", years=range(2024, 2029))
_PLUS8 = timezone(timedelta(hours=8))  # Shanghai has had no DST since 1991
_DEFAULT_HOURS = ((9, 12), (13, 18))


def _ref_is_working_day(d: date) -> bool:
    if d in _CN_DATA:
        return False
    if d in _CN_DATA.weekend_workdays:
        return True
    return d.weekday() < 5


def _ref_working_time(a: datetime, b: datetime) -> timedelta:
    if b < a:
        return -_ref_working_time(b, a)
    a, b = a.astimezone(_PLUS8), b.astimezone(_PLUS8)
    total = timedelta(0)
    day = a.date()
    while day <= b.date():
        if _ref_is_working_day(day):
            for h1, h2 in _DEFAULT_HOURS:
                s = datetime(day.year, day.month, day.day, h1, tzinfo=_PLUS8)
                e = datetime(day.year, day.month, day.day, h2, tzinfo=_PLUS8)
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    total += hi - lo
        day += timedelta(days=1)
    return total


def _ref_in_closed_span(t: datetime) -> bool:
    local = t.astimezone(_PLUS8)
    day = local.date()
    if not _ref_is_working_day(day):
        return False
    minutes = (
        local.hour * 60 + local.minute + (local.second + local.microsecond / 1e6) / 60
    )
    return any(h1 * 60 <= minutes <= h2 * 60 for h1, h2 in _DEFAULT_HOURS)


def test_reference_agrees_on_known_days() -> None:
    # guard the reference itself, so property (c) can fail for the right reason
    assert _ref_is_working_day(date(2026, 2, 14))
    assert not _ref_is_working_day(date(2026, 2, 17))
    assert _ref_working_time(sh(2026, 2, 14, 17), sh(2026, 2, 24, 17)) == hours(8)


# --------------------------------------------------------------- properties
BERLIN_SHIFTS = WorkingCalendar(
    name="berlin_shifts",
    timezone="Europe/Berlin",
    country="DE",
    hours={
        wd: [(time(1), time(5)), (time(9), time(12, 30)), (time(13, 30), time(0))]
        for wd in range(6)
    },
)
CALENDARS = [CN, BERLIN_SHIFTS]

starts = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2026, 12, 31, 23, 59, 59),
    timezones=st.sampled_from([UTC, SH, BERLIN, NEW_YORK]),
)
working_durations = st.integers(0, 60 * 3600).map(lambda s: timedelta(seconds=s))
calendars = st.sampled_from(CALENDARS)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, a=starts, d=working_durations)
def test_property_add_then_measure_round_trips(
    cal: WorkingCalendar, a: datetime, d: timedelta
) -> None:
    due = cal.add(a, d)
    assert due >= a
    assert cal.working_time_between(a, due) == d
    if cal is CN:
        assert _ref_working_time(a, due) == d


@settings(max_examples=200, deadline=None)
@given(cal=calendars, a=starts, d=working_durations)
def test_property_add_never_lands_in_a_break(
    cal: WorkingCalendar, a: datetime, d: timedelta
) -> None:
    assume(d > timedelta(0))
    due = cal.add(a, d)
    day = due.astimezone(cal.tz).date()
    spans = cal.intervals(day) + cal.intervals(day - timedelta(days=1))
    assert any(s <= due <= e for s, e in spans)
    # the earliest such instant: the moment just before it is working time
    assert cal.is_working_time(due - timedelta(microseconds=1))
    if cal is CN:
        assert _ref_in_closed_span(due)


minutes_2025_2026 = st.integers(0, 2 * 365 * 24 * 60)
ten_days_of_minutes = st.integers(-10 * 24 * 60, 10 * 24 * 60)


@settings(max_examples=200, deadline=None)
@given(
    start=minutes_2025_2026, span=ten_days_of_minutes, zone=st.sampled_from([UTC, SH])
)
def test_property_between_agrees_with_reference(
    start: int, span: int, zone: ZoneInfo
) -> None:
    a = (datetime(2025, 1, 1, tzinfo=UTC) + timedelta(minutes=start)).astimezone(zone)
    b = a + timedelta(minutes=span)
    assert CN.working_time_between(a, b) == _ref_working_time(a, b)


@settings(max_examples=200, deadline=None)
@given(cal=calendars, a=starts, d1=working_durations, d2=working_durations)
def test_property_add_is_monotonic(
    cal: WorkingCalendar, a: datetime, d1: timedelta, d2: timedelta
) -> None:
    d1, d2 = sorted((d1, d2))
    r1, r2 = cal.add(a, d1), cal.add(a, d2)
    assert r1 <= r2
    if d1 < d2:
        assert r1 < r2
    # adding in two steps lands where adding at once does
    assert cal.add(r1, d2 - d1) == r2


@settings(max_examples=200, deadline=None)
@given(cal=calendars, a=starts, d=working_durations)
def test_property_next_working_time_changes_nothing(
    cal: WorkingCalendar, a: datetime, d: timedelta
) -> None:
    nxt = cal.next_working_time(a)
    assert nxt >= a
    assert cal.is_working_time(nxt)
    assert cal.working_time_between(a, nxt) == timedelta(0)
    if d > timedelta(0):
        assert cal.add(nxt, d) == cal.add(a, d)


# ------------------------------------ validate and the engine agree (issue 18)
CALENDAR_FILE = """\
calendar: default
timezone: Asia/Shanghai
country: CN
"""


def _verdicts(folder: Path) -> tuple[list[Problem], bool]:
    """(the problems ``validate`` finds, whether the engine builds on the folder)."""
    try:
        load_paths([folder])
        problems: list[Problem] = []
    except DefinitionError as exc:
        problems = list(exc.problems)
    try:
        Engine.from_directory(folder, store=SQLiteStore(str(folder / "cases.db")))
    except DefinitionError:
        return problems, False
    return problems, True


@pytest.mark.parametrize(
    ("line", "hint"),
    [
        ("country: ../../os", ""),  # a ValueError from the engine before
        ("country: __class__", ""),  # a TypeError from the holidays package
        ("country: cn", "'CN'"),
        ("country: CNN", ""),
        ("timezone: ../../etc/passwd", ""),
        ("timezone: /etc/localtime", ""),
        ('timezone: "Asia/Shang\\0hai"', "Asia/Shanghai"),
        ("timezone: localtime", ""),
        ("timezone: Asia/Shangai", "Asia/Shanghai"),
        ("hours: {mon: ['09:00-24:30']}", ""),
        ("hours: {mon: ['12:00-09:00']}", ""),
        ("hours: {mon: ['09:00-12:00', '11:00-13:00']}", ""),
        ("hours: {}", ""),
        ("hours: {mon: []}", ""),
        ("day_length: 99999999999d", ""),
        ("day_length: 25h", ""),
        ("data_years: [true]", ""),
        ("data_years: [99999999999999]", ""),
        ("holidays: [20260101]", ""),  # read as seconds since 1970 before
        ("working_days: [2026-02-30]", ""),
    ],
)
def test_validate_refuses_what_the_engine_cannot_build(
    tmp_path: Path, line: str, hint: str
) -> None:
    text = CALENDAR_FILE + line + "\n"
    key = line.split(":")[0]
    text = (
        "\n".join(ln for ln in text.splitlines() if not ln.startswith(key + ":"))
        + f"\n{line}\n"
    )
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    problems, engine_ok = _verdicts(tmp_path)
    assert not engine_ok
    (problem,) = problems
    assert problem.line == text.splitlines().index(line) + 1
    assert problem.message.startswith(key)
    assert hint in problem.hint


@pytest.mark.parametrize(
    "line",
    [
        "country: DE",
        "country: DEU",
        "country: null",
        "timezone: UTC",
        "timezone: Europe/Berlin",
        "hours: {mon: ['00:00-24:00'], sat: ['09:00-12:00', '13:00-18:00']}",
        "day_length: 24h",
        "data_years: [2026, 2027]",
        "holidays: [2026-10-09]",
    ],
)
def test_validate_and_the_engine_accept_the_same_good_calendars(
    tmp_path: Path, line: str
) -> None:
    key = line.split(":")[0]
    text = (
        "\n".join(
            ln for ln in CALENDAR_FILE.splitlines() if not ln.startswith(key + ":")
        )
        + f"\n{line}\n"
    )
    (tmp_path / "calendar.yaml").write_text(text, encoding="utf-8")
    assert _verdicts(tmp_path) == ([], True)


def test_every_supported_country_builds_a_calendar() -> None:
    # validate accepts exactly the package's list: each entry must build.
    for code in sorted(holidays.list_supported_countries()):
        assert WorkingCalendar(country=code).country == code


def test_the_country_list_is_the_one_holidays_publishes() -> None:
    """Checked without importing every country module, but the same list."""
    import holidays

    from cswork.calendar.zones import country_codes

    assert country_codes() == frozenset(holidays.list_supported_countries())
