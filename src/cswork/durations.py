"""Durations as process owners write them: ``30s``, ``15m``, ``4h``, ``1h30m``, ``2d``, ``1mo``.

A duration alone has no basis. A deadline always says whether it counts
working time or wall-clock time; the day unit means 24 hours on the wall
clock and one working day's worth of working time (the calendar's
``day_length``) in working time. A month (``mo``) is a calendar month on the
wall clock, counted in the calendar's time zone: one month after 31 January
is the last day of February, at the same time of day. Months have no working
time: a deadline counting months uses ``basis: wall``.

An offset (``offset:`` of an ``at`` deadline) may be negative: ``-1d``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

_UNITS = r"[0-9]+(mo|[dhms])([0-9]+[dhms])*"
#: Durations, for the JSON Schema (the parser gives the precise error).
DURATION_PATTERN = rf"^{_UNITS}$"
#: Offsets: a duration, possibly negative.
OFFSET_PATTERN = rf"^-?{_UNITS}$"
#: The longest duration a definition may give: about ten years. Longer ones
#: overflow date arithmetic (``99999999999d``) or walk the working calendar
#: for centuries, and no SOP needs them.
MAX_DAYS = 3650
_RX = re.compile(r"^(?=\d)(?:(\d+)mo)?(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


@dataclass(frozen=True, slots=True)
class Duration:
    """A parsed duration: whole months and days, plus a time part.

    Attributes:
        months: calendar months (wall clock only).
        days: the number of days (wall-clock days or working days).
        time: the hours, minutes and seconds.
        negative: an offset pointing backwards.
    """

    days: int
    time: timedelta
    months: int = 0
    negative: bool = False

    def wall(self) -> timedelta:
        """The duration on the wall clock (a day is 24 hours; no months).

        Raises:
            ValueError: the duration has months, whose length depends on the date.
        """
        if self.months:
            raise ValueError("a month has no fixed length; add it to a date")
        return timedelta(days=self.days) + self.time

    def working(self, day_length: timedelta) -> timedelta:
        """The duration in working time, a day being ``day_length`` (no months)."""
        if self.months:
            raise ValueError("months are counted on the wall clock only")
        return self.days * day_length + self.time

    def __str__(self) -> str:
        sign = "-" if self.negative else ""
        months = f"{self.months}mo" if self.months else ""
        if not self.days:
            rest = format_duration(self.time) if self.time or not months else ""
            return sign + months + rest
        return sign + months + _text(self)


def parse_duration(text: str, *, signed: bool = False) -> Duration:
    """Parse ``1mo2d4h30m``-style text (a leading ``-`` too, when ``signed``).

    Raises:
        ValueError: the text is not a duration, is zero, or is longer than
            ``MAX_DAYS`` days.
    """
    body = text.strip()
    negative = signed and body.startswith("-")
    m = _RX.match(body[1:] if negative else body)
    if not m or not any(m.groups()):
        raise ValueError(
            f"{text!r} is not a duration; write e.g. 30s, 15m, 4h, 1h30m, 2d or 1mo"
        )
    mo, d, h, mi, s = (int(g) if g else 0 for g in m.groups())
    # Plain integers first: timedelta() itself overflows on huge parts.
    if (mo * 31 + d) * 86400 + h * 3600 + mi * 60 + s > MAX_DAYS * 86400:
        raise ValueError(f"{text!r} is longer than {MAX_DAYS}d (about ten years)")
    result = Duration(d, timedelta(hours=h, minutes=mi, seconds=s), mo, negative)
    if not result.months and not result.days and not result.time:
        raise ValueError(f"{text!r} is a zero duration")
    return result


def format_duration(delta: timedelta) -> str:
    """Render a timedelta as ``1d2h3m4s`` (omitting zero parts; ``0s`` for zero)."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    days, rest = divmod(total, 86400)
    h, rest = divmod(rest, 3600)
    m, s = divmod(rest, 60)
    parts = [f"{v}{u}" for v, u in ((days, "d"), (h, "h"), (m, "m"), (s, "s")) if v]
    return sign + ("".join(parts) or "0s")


def _text(d: Duration) -> str:
    rest = format_duration(d.time)
    return f"{d.days}d" + ("" if rest == "0s" else rest)
