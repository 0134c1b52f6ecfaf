"""Weekly working hours: parsing ``"09:00-12:00"`` and checking intervals."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import time, timedelta

Hours = tuple[tuple[time, time], ...]
_MIDNIGHT = time(0)


def _seconds(t: time, *, end: bool = False) -> int:
    if end and t == _MIDNIGHT:
        return 86400
    return t.hour * 3600 + t.minute * 60 + t.second


def _check_hours(hours: Mapping[int, Sequence[tuple[time, time]]]) -> dict[int, Hours]:
    out: dict[int, Hours] = {}
    for weekday, spans in hours.items():
        if weekday not in range(7):
            raise ValueError(
                f"weekday must be 0 (Monday) .. 6 (Sunday), not {weekday!r}"
            )
        ordered = sorted(spans, key=lambda span: _seconds(span[0]))
        prev_end = 0
        for start, end in ordered:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working hours are local times without tzinfo")
            if _seconds(end, end=True) <= _seconds(start):
                raise ValueError(f"interval {start}-{end} ends before it starts")
            if _seconds(start) < prev_end:
                raise ValueError(f"interval {start}-{end} overlaps the one before it")
            prev_end = _seconds(end, end=True)
        if ordered:
            out[weekday] = tuple((s, e) for s, e in ordered)
    return out


def _length(hours: Hours) -> timedelta:
    return timedelta(seconds=sum(_seconds(e, end=True) - _seconds(s) for s, e in hours))


def _parse_interval(text: str) -> tuple[time, time]:
    start, _, end = text.partition("-")
    return _parse_time(start, end=False), _parse_time(end, end=True)


def _parse_time(text: str, *, end: bool) -> time:
    hour, _, minute = text.strip().partition(":")
    h, m = int(hour), int(minute)
    if end and (h, m) == (24, 0):
        return _MIDNIGHT  # time() cannot say 24:00; an end of 00:00 means it
    if not (0 <= h <= 23 and 0 <= m <= 59):
        raise ValueError(f"{text!r} is not a time of day (HH:MM, or 24:00 as an end)")
    return time(h, m)
