"""Groups, filters and the period-bound parts of a report.

- ``Cuts`` keeps one ``Tally`` per value of each cut (a week, a person, ...);
- ``Filters`` says whether a case is counted at all;
- ``Hours`` is a person's working time: the calendar's working hours on the
  days they worked, inside the period;
- ``RepeatTracker`` remembers each customer's topics for the repeat window;
- unreached customers (003) are listed per month.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from cswork.calendar import WorkingCalendar
from cswork.durations import Duration
from cswork.report.config import ReportConfig
from cswork.report.facts import CaseFacts
from cswork.report.model import Report
from cswork.report.tally import Tally

PERIODS = ("day", "week", "month")
CUTS = (*PERIODS, "workflow", "person", "unit", "severity", "channel")


def period_key(moment: datetime, tz: ZoneInfo, period: str) -> str:
    """The day (``2026-03-02``), ISO week (``2026-W10``) or month of a moment."""
    local = moment.astimezone(tz)
    if period == "day":
        return local.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = local.isocalendar()
        return f"{year}-W{week:02d}"
    return local.strftime("%Y-%m")


@dataclass(frozen=True)
class Filters:
    """Count only cases with these values (None: any)."""

    person: str | None = None
    unit: str | None = None
    severity: str | None = None
    channel: str | None = None

    def match(self, f: CaseFacts) -> bool:
        """Whether the case passes every filter given."""
        return (
            (self.person is None or f.person == self.person)
            and (self.unit is None or f.unit == self.unit)
            and (self.severity is None or f.severity == self.severity)
            and (self.channel is None or f.channel == self.channel)
        )

    def as_dict(self) -> dict[str, str | None]:
        """The filters as a mapping."""
        return asdict(self)


class Cuts:
    """One tally per value of each cut asked for."""

    def __init__(self, names: Iterable[str], tz: ZoneInfo) -> None:
        self.tz = tz
        self.tallies: dict[str, dict[str, Tally]] = {n: {} for n in names}
        self._day_keys: dict[tuple[date, str], str] = {}

    def _tally(self, dim: str, key: str) -> Tally:
        group = self.tallies[dim]
        found = group.get(key)
        if found is None:
            found = group[key] = Tally()
        return found

    def add(self, f: CaseFacts) -> None:
        """Count a case in the group of each cut it falls in."""
        for dim in self.tallies:
            if dim in PERIODS:
                key = period_key(f.case.created_at, self.tz, dim)
            elif dim == "workflow":
                key = f.case.workflow_id
            else:
                key = getattr(f, dim)
            self._tally(dim, key).add(f)

    def work(self, overall: Tally, person: str, days: set[date]) -> None:
        """Count one case ``person`` worked on, on these local days."""
        overall.work(person, days)  # the person cut takes it from here (``finish``)
        for dim in PERIODS:
            if dim in self.tallies:
                by_key: dict[str, set[date]] = {}
                for d in days:
                    by_key.setdefault(self.day_key(d, dim), set()).add(d)
                for key, in_key in by_key.items():
                    self._tally(dim, key).work(person, in_key)

    def finish(self, overall: Tally) -> None:
        """Give each person's tally the work counted for them overall."""
        if "person" in self.tallies:
            for person, n in overall.handled.items():
                t = self._tally("person", person)
                t.handled[person] = n
                t.days[person] = overall.days[person]

    def day_key(self, d: date, period: str) -> str:
        """The period key of a local day."""
        found = self._day_keys.get((d, period))
        if found is None:
            found = self._day_keys[(d, period)] = period_key(
                datetime.combine(d, time(12), self.tz), self.tz, period
            )
        return found

    def unreached(
        self,
        f: CaseFacts,
        report: Report,
        cfg: ReportConfig,
        since: datetime | None,
        until: datetime | None,
    ) -> None:
        """List the case's customer in each month it was tried and not reached."""
        tz = f.view.tz
        tried: dict[str, list[datetime]] = {}
        for at in f.attempts:
            if (since is None or at >= since) and (until is None or at < until):
                tried.setdefault(period_key(at, tz, "month"), []).append(at)
        case = f.case
        if f.outcome in cfg.unreached.outcomes:
            end = case.updated_at
            if (since is None or end >= since) and (until is None or end < until):
                tried.setdefault(period_key(end, tz, "month"), [])
        for month, attempts in tried.items():
            if f.reached_at is not None and f.reached_at < _month_end(month, tz):
                continue
            report.unreached.setdefault(month, []).append(
                {
                    "customer": case.customer or "",
                    "case": case.id,
                    "workflow": case.workflow_id,
                    "person": f.person,
                    "attempts": len(attempts),
                    "last_attempt": max(attempts).isoformat() if attempts else None,
                }
            )


def _month_end(month: str, tz: ZoneInfo) -> datetime:
    year, mon = (int(x) for x in month.split("-"))
    first = date(year + mon // 12, mon % 12 + 1, 1)
    return datetime.combine(first, time(0), tz)


class Hours:
    """Working hours of the calendar on given local days, inside the period."""

    def __init__(
        self, calendar: WorkingCalendar, since: datetime | None, until: datetime | None
    ) -> None:
        self.calendar = calendar
        self.since = since
        self.until = until
        self._cache: dict[date, float] = {}

    def day(self, d: date) -> float:
        """Working hours of the local day ``d`` that fall inside the period."""
        found = self._cache.get(d)
        if found is None:
            tz = self.calendar.tz
            start = datetime.combine(d, time(0), tz)
            end = datetime.combine(d + timedelta(days=1), time(0), tz)
            if self.since is not None:
                start = max(start, self.since)
            if self.until is not None:
                end = min(end, self.until)
            worked = (
                self.calendar.working_time_between(start, end)
                if end > start
                else timedelta(0)
            )
            found = self._cache[d] = worked.total_seconds() / 3600
        return found

    def __call__(self, days: Iterable[date]) -> float:
        """Working hours over ``days``."""
        return sum(self.day(d) for d in days)


class RepeatTracker:
    """Remembers, for the repeat window, when each customer last asked about a topic."""

    def __init__(self, window: Duration) -> None:
        self.window = window.wall()
        self.last: dict[tuple[str, str], datetime] = {}
        self._order: deque[tuple[datetime, tuple[str, str]]] = deque()

    def seen(self, customer: str | None, topic: str | None, at: datetime) -> bool:
        """Record an inquiry (in start order); True if it repeats one in the window."""
        if customer is None or topic is None:
            return False
        while self._order and self._order[0][0] < at - self.window:
            old_at, old_key = self._order.popleft()
            if self.last.get(old_key) == old_at:
                del self.last[old_key]
        key = (customer, " ".join(topic.casefold().split()))
        before = self.last.get(key)
        self.last[key] = at
        self._order.append((at, key))
        return before is not None and at - before <= self.window
