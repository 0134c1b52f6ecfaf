"""What the pages print: times in a calendar's zone, values, and a case's timeline.

Everything here returns plain text; the templates escape it. Times are
shown in the time zone of the calendar the case's workflow runs on, because
that is the clock its deadlines are counted on and its people work by.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from cswork.definition.model import Workflow
from cswork.engine import Engine
from cswork.records import JSON, HistoryEntry, Scalar

#: History detail keys that hold a time (ISO text in UTC).
_TIME_KEYS = ("due_at", "deadline_due_at", "at")
_KIND_LABELS = {
    "start": "started",
    "event": "step",
    "deadline": "deadline fell due",
    "warning": "deadline warning",
    "period": "period ended",
}


def zone_of(engine: Engine, wf: Workflow) -> ZoneInfo:
    """The time zone of the calendar the workflow runs on."""
    cal = engine.calendars.get(wf.calendar) or engine.calendars["default"]
    return cal.tz


def when(at: datetime | None, tz: ZoneInfo) -> str:
    """``2026-03-06 17:30 Fri`` in ``tz`` ("—" for None)."""
    if at is None:
        return "—"
    local = at.astimezone(tz)
    return local.strftime("%Y-%m-%d %H:%M %a")


def zone_label(tz: ZoneInfo, at: datetime) -> str:
    """``Asia/Shanghai (UTC+08:00)`` at the moment ``at``."""
    offset = at.astimezone(tz).strftime("%z")
    return f"{tz.key} (UTC{offset[:3]}:{offset[3:]})"


def relative(at: datetime | None, now: datetime) -> str:
    """``in 1 h 20 min`` or ``3 d 2 h ago`` ("" for None)."""
    if at is None:
        return ""
    delta = at - now
    text = span(abs(delta))
    return f"in {text}" if delta >= timedelta(0) else f"{text} ago"


def span(d: timedelta) -> str:
    """A duration in its two largest units: ``2 d 3 h``, ``45 min``."""
    minutes = int(d.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, mins = divmod(rest, 60)
    parts = [f"{days} d"] if days else []
    if hours:
        parts.append(f"{hours} h")
    if mins and not days:
        parts.append(f"{mins} min")
    return " ".join(parts[:2]) or "0 min"


def value_text(value: JSON, *, is_time: bool = False, tz: ZoneInfo) -> str:
    """A value of case data or history detail as the page prints it."""
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if is_time and isinstance(value, str):
        try:
            return when(datetime.fromisoformat(value), tz)
        except ValueError:
            return value
    if isinstance(value, list):
        return ", ".join(value_text(v, tz=tz) for v in value)
    if isinstance(value, dict):
        return "; ".join(f"{k}: {value_text(v, tz=tz)}" for k, v in value.items())
    return str(value)


def data_rows(
    wf: Workflow, data: Mapping[str, Scalar], tz: ZoneInfo
) -> list[tuple[str, str, str]]:
    """The case's data as (field, value, description), in declaration order."""
    declared = [n for n in wf.fields if n in data]
    extra = sorted(n for n in data if n not in wf.fields)
    rows = []
    for name in declared + extra:
        spec = wf.fields.get(name)
        is_time = spec is not None and spec.type == "datetime"
        text = value_text(data[name], is_time=is_time, tz=tz)
        rows.append((name, text, spec.description if spec else ""))
    return rows


@dataclass(frozen=True)
class Step:
    """One line of a case's timeline.

    Attributes:
        seq: the history entry's number.
        at: when, in the calendar's zone.
        kind: what sort of step (``started``, ``step``, ``deadline fell due``...).
        event: the event, or the deadline's name.
        actor: who (``cswork`` for deadlines), and ``roles`` they acted in.
        move: ``from → to``, or the state when it did not change.
        changes: (field, new value) pairs set by the step.
        detail: (key, value) pairs: deadlines armed, notices, outcome...
        breach: True for a missed deadline.
    """

    seq: int
    at: str
    kind: str
    event: str
    actor: str
    roles: str
    move: str
    changes: list[tuple[str, str]]
    detail: list[tuple[str, str]]
    breach: bool


def timeline(wf: Workflow, entries: Sequence[HistoryEntry], tz: ZoneInfo) -> list[Step]:
    """The case's history as timeline lines, oldest first."""
    times = {n for n, f in wf.fields.items() if f.type == "datetime"}
    out = []
    for h in entries:
        changes = [
            (k, value_text(v, is_time=k in times, tz=tz)) for k, v in h.changes.items()
        ]
        changes += [(k, str(v)) for k, v in h.counters.items() if h.kind != "start"]
        detail = [
            (k, value_text(v, is_time=k in _TIME_KEYS, tz=tz))
            for k, v in h.detail.items()
            if k not in ("worker", "timer")
        ]
        move = (
            h.to_state
            if h.from_state in (None, h.to_state)
            else f"{h.from_state} → {h.to_state}"
        )
        out.append(
            Step(
                seq=h.seq,
                at=when(h.at, tz),
                kind=_KIND_LABELS.get(h.kind, h.kind),
                event=h.event,
                actor=h.actor,
                roles=", ".join(h.roles),
                move=move,
                changes=changes,
                detail=detail,
                breach=h.detail.get("outcome") in ("breached", "missed"),
            )
        )
    return out
