"""Working-time arithmetic: business hours, breaks, holidays and make-up days.

A :class:`WorkingCalendar` knows, for every calendar day, the intervals in
which people work. "Four working hours after t" is then a walk over those
intervals. Public holidays and China's make-up working days (调休) come from
the ``holidays`` package; a calendar can add its own days off and working days.

Everything here is pure: no I/O and no reading of the wall clock. Every
instant given must be timezone-aware; every instant returned is in UTC.
Working time is real elapsed time, so a working hour that a DST change
removes is not counted, and one it repeats is counted twice.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal, NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cswork.calendar.explain import AddExplanation, SkippedDay
from cswork.calendar.hours import Hours, _check_hours, _length
from cswork.calendar.zones import check_country, check_zone
from cswork.errors import ClockError

__all__ = ["WEEKDAY_NAMES", "AddExplanation", "SkippedDay", "WorkingCalendar"]

Span = tuple[datetime, datetime]
#: What kind of day a local date is (``WorkingCalendar.day_kind``).
DayKind = Literal["working", "makeup", "weekend", "holiday", "off"]

WEEKDAY_NAMES = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_DEFAULT_HOURS: Hours = ((time(9), time(12)), (time(13), time(18)))
_MIDNIGHT = time(0)
_ZERO = timedelta(0)
_ONE_DAY = timedelta(days=1)
# A calendar whose working days are all holidays would make add() loop for
# ever; three years without a single working interval means there are none.
_MAX_IDLE_DAYS = 3 * 366


class _YearData(NamedTuple):
    names: dict[date, str]  # public holidays of the year → name
    makeup: frozenset[date]  # weekend days of the year declared working
    uses_makeup: bool  # does the country ever declare weekend days working?


class _Plan(NamedTuple):
    hours: Hours  # empty for a day off
    makeup: bool  # working only because it was declared so
    reason: str  # why the day is off ("" when working)


class WorkingCalendar:
    """Working hours, days off and make-up days, and arithmetic over them.

    Attributes:
        name: the calendar id.
        tz: the zone the working hours are in.
        country: the ``holidays`` country code, or None.
        day_length: how much working time one working day ("1d") is.
    """

    def __init__(
        self,
        *,
        name: str = "default",
        timezone: str = "Asia/Shanghai",
        hours: Mapping[int, Sequence[tuple[time, time]]] | None = None,
        country: str | None = "CN",
        makeup_weekday: int = 0,
        extra_holidays: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
        day_length: timedelta | None = None,
        data_years: Iterable[int] | None = None,
    ) -> None:
        """Build a calendar.

        Args:
            name: the calendar id.
            timezone: an IANA zone name; the hours are local to it.
            hours: weekday (0 = Monday … 6 = Sunday) → working intervals
                ``(start, end)``; an end of ``time(0)`` means 24:00. None means
                Monday to Friday 09:00–12:00 and 13:00–18:00.
            country: public holidays and make-up working days from the
                ``holidays`` package for this country code; None for none.
            makeup_weekday: whose hours a make-up working day gets when its
                own weekday has none.
            extra_holidays: more days off.
            extra_working_days: days that are working whatever else says.
            day_length: what one working day means; default: the longest
                weekday's total hours.
            data_years: the years whose holiday data is known to be complete;
                default: see :meth:`covers`.

        Raises:
            ValueError: unknown zone or country, malformed or overlapping
                hours, no working hours at all, or a non-positive day length.
        """
        self.name = name
        self.tz = _zone(timezone)
        self._hours = _check_hours(
            hours if hours is not None else dict.fromkeys(range(5), _DEFAULT_HOURS)
        )
        if not self._hours:
            raise ValueError(f"calendar {name!r} has no working hours on any weekday")
        if makeup_weekday not in range(7):
            raise ValueError(f"makeup_weekday must be 0..6, not {makeup_weekday!r}")
        self._makeup_hours = self._hours.get(makeup_weekday, ())
        self.country = country
        if country is not None:
            _check_country(country)
        self._extra_holidays = frozenset(extra_holidays)
        self._extra_working = frozenset(extra_working_days)
        self._extra_years = {d.year for d in self._extra_holidays | self._extra_working}
        self.day_length = (
            day_length
            if day_length is not None
            else max(map(_length, self._hours.values()))
        )
        if self.day_length <= _ZERO:
            raise ValueError(f"day_length must be positive, not {self.day_length}")
        self._data_years = None if data_years is None else frozenset(data_years)
        self._years: dict[int, _YearData] = {}
        self._spans: dict[int, tuple[Span, ...]] = {}

    def __repr__(self) -> str:
        return (
            f"WorkingCalendar(name={self.name!r}, timezone={self.tz.key!r}, "
            f"country={self.country!r})"
        )

    # ------------------------------------------------------------ days
    def is_working_day(self, d: date) -> bool:
        """Whether the local date ``d`` has any working time."""
        return bool(self._day_spans(d.toordinal()))

    def day_kind(self, d: date) -> DayKind:
        """What kind of day the local date ``d`` is.

        ``working`` (a day with its usual hours), ``makeup`` (a day off by
        its weekday declared working: China's 调休), ``holiday`` (a public
        holiday, or one of the calendar's extra days off), ``weekend`` (a
        Saturday or Sunday off) or ``off`` (another weekday without hours).
        """
        plan = self._plan(d)
        if plan.hours:
            return "makeup" if plan.makeup else "working"
        if plan.reason.startswith(("public holiday", "extra holiday")):
            return "holiday"
        return "weekend" if plan.reason == "weekend" else "off"

    def intervals(self, d: date) -> list[tuple[datetime, datetime]]:
        """The working intervals of the local date ``d`` in UTC, sorted.

        Empty for a day off.
        """
        return list(self._day_spans(d.toordinal()))

    def covers(self, year: int) -> bool:
        """Whether the holiday data for ``year`` is known to be complete.

        With ``data_years`` given, exactly those years are. Otherwise a year
        is covered when there is no country, when the calendar's own extra
        days mention it, or when the country's data for it has a make-up
        working day (or the country never has any). Countries such as China
        publish each year's make-up days late in the year before; until the
        ``holidays`` package has them, the year is not covered.
        """
        if self._data_years is not None:
            return year in self._data_years
        if self.country is None or year in self._extra_years:
            return True
        data = self._year_data(year)
        return bool(data.makeup) or not data.uses_makeup

    # --------------------------------------------------------- instants
    def is_working_time(self, t: datetime) -> bool:
        """Whether ``t`` lies inside a working interval (start in, end out)."""
        t = _utc(t, "t")
        return any(s <= t < e for s, e in self._day_spans(self._ordinal(t)))

    def next_working_time(self, t: datetime) -> datetime:
        """``t`` itself if it is working time, else the next interval's start (UTC).

        Raises:
            ClockError: ``t`` is naive.
            ValueError: no working time within about three years.
        """
        t = _utc(t, "t")
        ordinal = self._ordinal(t)
        idle = 0
        while True:
            spans = self._day_spans(ordinal)
            for s, e in spans:
                if e > t:
                    return max(s, t)
            idle = 0 if spans else idle + 1
            self._check_idle(idle, ordinal)
            ordinal += 1

    def add(self, start: datetime, delta: timedelta) -> datetime:
        """The earliest instant ``t >= start`` with ``delta`` working time before it.

        ``delta`` zero returns ``start`` (in UTC) even outside working time.

        Raises:
            ClockError: ``start`` is naive.
            ValueError: ``delta`` is negative, or no working time within
                about three years.
        """
        t = _utc(start, "start")
        if delta < _ZERO:
            raise ValueError(f"cannot add negative working time {delta}")
        if not delta:
            return t
        remaining = delta
        ordinal = self._ordinal(t)
        idle = 0
        while True:
            spans = self._day_spans(ordinal)
            for s, e in spans:
                if e <= t:
                    continue
                t = max(s, t)
                left = e - t
                if remaining <= left:
                    return t + remaining
                remaining -= left
                t = e
            idle = 0 if spans else idle + 1
            self._check_idle(idle, ordinal)
            ordinal += 1

    def subtract(self, end: datetime, delta: timedelta) -> datetime:
        """The latest instant ``t <= end`` with ``delta`` working time after it.

        The mirror of :meth:`add`: ``working_time_between(subtract(e, d), e)``
        is ``d`` (``delta`` zero returns ``end`` in UTC).

        Raises:
            ClockError: ``end`` is naive.
            ValueError: ``delta`` is negative, or no working time within
                about three years.
        """
        t = _utc(end, "end")
        if delta < _ZERO:
            raise ValueError(f"cannot subtract negative working time {delta}")
        if not delta:
            return t
        remaining = delta
        ordinal = self._ordinal(t)
        idle = 0
        while True:
            spans = self._day_spans(ordinal)
            for s, e in reversed(spans):
                if s >= t:
                    continue
                t = min(e, t)
                got = t - s
                if remaining <= got:
                    return t - remaining
                remaining -= got
                t = s
            idle = 0 if spans else idle + 1
            self._check_idle(idle, ordinal)
            ordinal -= 1

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """The working time in ``[a, b)``; negative when ``b`` is before ``a``.

        Raises:
            ClockError: ``a`` or ``b`` is naive.
        """
        a, b = _utc(a, "a"), _utc(b, "b")
        if b < a:
            return -self.working_time_between(b, a)
        return sum(
            (e - s for s, e in self._clipped(a, b)),
            start=_ZERO,
        )

    def explain_add(self, start: datetime, delta: timedelta) -> AddExplanation:
        """Like :meth:`add`, but say which intervals and days it went through.

        Raises:
            ClockError: ``start`` is naive.
            ValueError: as for :meth:`add`.
        """
        due = self.add(start, delta)
        t0 = _utc(start, "start")
        segments = tuple(self._clipped(t0, due))
        first = self._ordinal(t0)
        used = sorted({self._ordinal(s) for s, _ in segments})
        last = used[-1] if used else first
        plans = {n: self._plan(date.fromordinal(n)) for n in range(first, last + 1)}
        skipped = tuple(
            SkippedDay(date.fromordinal(n), plans[n].reason or "no working hours")
            for n in range(first, last + 1)
            if not self._day_spans(n)
        )
        years = range(date.fromordinal(first).year, date.fromordinal(last).year + 1)
        return AddExplanation(
            start=t0,
            delta=delta,
            due=due,
            segments=segments,
            skipped=skipped,
            makeup_days=tuple(date.fromordinal(n) for n in used if plans[n].makeup),
            uncovered_years=tuple(y for y in years if not self.covers(y)),
            tz=self.tz,
        )

    # -------------------------------------------------------- internals
    def _ordinal(self, t: datetime) -> int:
        return t.astimezone(self.tz).toordinal()

    def _check_idle(self, idle: int, ordinal: int) -> None:
        if idle > _MAX_IDLE_DAYS:
            day = date.fromordinal(ordinal - idle)
            raise ValueError(
                f"calendar has no working time after {day} "
                f"(calendar {self.name!r}, searched {idle} days)"
            )

    def _clipped(self, a: datetime, b: datetime) -> Iterable[Span]:
        """The parts of working intervals inside ``[a, b)``, in order."""
        for ordinal in range(self._ordinal(a), self._ordinal(b) + 1):
            for s, e in self._day_spans(ordinal):
                lo, hi = max(s, a), min(e, b)
                if hi > lo:
                    yield lo, hi

    def _day_spans(self, ordinal: int) -> tuple[Span, ...]:
        # The hot path of add(): each day is planned and converted once.
        spans = self._spans.get(ordinal)
        if spans is None:
            d = date.fromordinal(ordinal)
            spans = self._spans[ordinal] = self._to_utc(d, self._plan(d).hours)
        return spans

    def _to_utc(self, d: date, hours: Hours) -> tuple[Span, ...]:
        out: list[Span] = []
        for start, end in hours:
            s = datetime.combine(d, start, tzinfo=self.tz).astimezone(UTC)
            end_day = d + _ONE_DAY if end == _MIDNIGHT else d
            e = datetime.combine(end_day, end, tzinfo=self.tz).astimezone(UTC)
            # Local times in a DST gap map to instants that can overlap the
            # previous interval; never count the same instant twice.
            if out and s < out[-1][1]:
                s = out[-1][1]
            if e > s:
                out.append((s, e))
        return tuple(out)

    def _plan(self, d: date) -> _Plan:
        own = self._hours.get(d.weekday(), ())
        if d in self._extra_working:
            return _Plan(own or self._makeup_hours, not own, "")
        if d in self._extra_holidays:
            return _Plan((), False, "extra holiday")
        if self.country is not None:
            data = self._year_data(d.year)
            if (holiday := data.names.get(d)) is not None:
                return _Plan((), False, f"public holiday: {holiday}")
            if d in data.makeup:
                return _Plan(own or self._makeup_hours, not own, "")
        if own:
            return _Plan(own, False, "")
        name = WEEKDAY_NAMES[d.weekday()].capitalize()
        return _Plan(
            (), False, "weekend" if d.weekday() >= 5 else f"no working hours on {name}"
        )

    def _year_data(self, year: int) -> _YearData:
        data = self._years.get(year)
        if data is None:
            data = self._years[year] = _load_year(str(self.country), year)
        return data


# ------------------------------------------------------------------ helpers
def _load_year(country: str, year: int) -> _YearData:
    import holidays  # on first need: loading it costs a command line ~50 ms

    src = holidays.country_holidays(country, years=year)
    # weekend_workdays also holds cross-year make-up days of *other* years
    # (e.g. China's 2001-12-29, declared in 2002's notice), so filter by year.
    return _YearData(
        names={d: name for d, name in src.items() if d.year == year},
        makeup=frozenset(d for d in src.weekend_workdays if d.year == year),
        uses_makeup=bool(getattr(src, "has_substituted_holidays", False)),
    )


def _check_country(country: str) -> None:
    # Only names on the package's own list: it looks the name up as an
    # attribute, so '__class__' or '../../os' must never reach it.
    if not isinstance(country, str):
        raise ValueError(f"a country is a code such as 'CN', not {country!r}")
    check_country(country)
    import holidays

    try:
        holidays.country_holidays(country, years=())
    except NotImplementedError as exc:
        raise ValueError(f"the holidays package has no country {country!r}") from exc


def _zone(name: str) -> ZoneInfo:
    # Only IANA keys: zoneinfo reads the key as a path below its data.
    if not isinstance(name, str):
        raise ValueError(f"a time zone is a name such as 'Asia/Shanghai', not {name!r}")
    try:
        return ZoneInfo(check_zone(name))
    except (ZoneInfoNotFoundError, OSError) as exc:
        raise ValueError(f"unknown time zone {name!r}") from exc


def _utc(t: datetime, what: str) -> datetime:
    if t.tzinfo is None or t.utcoffset() is None:
        raise ClockError(f"{what} must be timezone-aware, got naive {t.isoformat()}")
    return t.astimezone(UTC)
