"""Explanations of working-time due dates.

How a due date was reached: the parts of working days used, and the days
skipped (weekends, public holidays, extra days off).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from cswork.durations import format_duration

__all__ = ["AddExplanation", "SkippedDay"]

Span = tuple[datetime, datetime]
_ZERO = timedelta(0)


@dataclass(frozen=True, slots=True)
class SkippedDay:
    """A calendar day without working time that a computation went past.

    Attributes:
        day: the local date.
        reason: why it is off, e.g. ``weekend``, ``extra holiday`` or
            ``public holiday: Labor Day``.
    """

    day: date
    reason: str


@dataclass(frozen=True, slots=True, kw_only=True)
class AddExplanation:
    """How :meth:`WorkingCalendar.add` arrived at a due time.

    Attributes:
        start: the start instant (UTC).
        delta: the working time added.
        due: the result of ``add(start, delta)`` (UTC).
        segments: the parts of working intervals consumed, in order (UTC).
        skipped: the days off from the start's day to the due time's day.
        makeup_days: make-up working days (days whose weekday has no hours)
            that were used.
        uncovered_years: years touched whose holiday data is not known to be
            complete; the due time may move once the data is published.
        tz: the calendar's zone, used by :meth:`lines`.
    """

    start: datetime
    delta: timedelta
    due: datetime
    segments: tuple[Span, ...]
    skipped: tuple[SkippedDay, ...]
    makeup_days: tuple[date, ...]
    uncovered_years: tuple[int, ...]
    tz: ZoneInfo

    def lines(self) -> list[str]:
        """A short derivation of the due time, in the calendar's local time."""
        out = [f"add {format_duration(self.delta)} of working time"]
        out.append(f"start {_stamp(self.start, self.tz)}")
        # Segments and skipped days are each in order; merge them by day so
        # the derivation reads chronologically.
        events: list[tuple[date, int, str]] = []
        for s, e in self.segments:
            day = s.astimezone(self.tz).date()
            events.append((day, 1, self._used_line(day, s, e)))
        for skip in self.skipped:
            events.append((skip.day, 0, f"skipped {_day(skip.day)}: {skip.reason}"))
        out.extend(text for _, _, text in sorted(events, key=lambda x: x[:2]))
        note = ""
        if self.segments:
            due_day = self.segments[-1][0].astimezone(self.tz).date()
            note = " (make-up working day)" if due_day in self.makeup_days else ""
        out.append(f"due {_stamp(self.due, self.tz)}{note}")
        out.extend(
            f"warning: holiday data for {y} is not known to be complete"
            for y in self.uncovered_years
        )
        return out

    def _used_line(self, day: date, s: datetime, e: datetime) -> str:
        local_end = e.astimezone(self.tz)
        end = "24:00" if local_end.date() != day else _clock(local_end)
        extra = ", make-up working day" if day in self.makeup_days else ""
        span = f"{_clock(s.astimezone(self.tz))}–{end}"
        return f"used {_day(day)} {span} ({format_duration(e - s)}{extra})"


def _clock(t: datetime) -> str:
    return t.strftime("%H:%M:%S" if t.second or t.microsecond else "%H:%M")


def _day(d: date) -> str:
    return d.strftime("%a %Y-%m-%d")


def _stamp(t: datetime, tz: ZoneInfo) -> str:
    local = t.astimezone(tz)
    offset = local.utcoffset() or _ZERO
    sign = "-" if offset < _ZERO else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{_day(local.date())} {_clock(local)} {sign}{minutes // 60:02d}:{minutes % 60:02d}"
