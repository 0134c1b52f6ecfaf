"""Explaining due times.

How a timer's due time was derived: its start, its basis, the calendar
segments used, and the holidays and make-up days skipped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from cswork.calendar import AddExplanation
from cswork.durations import format_duration
from cswork.engine.compile import CompiledDeadline, stamp_field
from cswork.engine.deadlines import Deadlines
from cswork.engine.plan import Planner
from cswork.errors import CsworkError
from cswork.records import Case, Timer


@dataclass(frozen=True)
class Explanation:
    """The derivation of one timer's due time.

    Attributes:
        case_id: the case.
        deadline: the deadline's name.
        title: the deadline's title.
        timer: the timer explained.
        basis: ``working``, ``wall`` or ``field`` (an ``at`` deadline).
        start: where the count started (scope entry, or the previous period's end).
        due_at: the due time.
        calendar: for working time, the calendar's derivation; else None.
        text: the derivation, one line each.
    """

    case_id: str
    deadline: str
    title: str
    timer: Timer
    basis: str
    start: datetime
    due_at: datetime
    calendar: AddExplanation | None
    text: tuple[str, ...]


def explain(
    stepper: Planner, case: Case, timers: Sequence[Timer], which: str
) -> Explanation:
    """Explain the timer named ``which`` (a timer id, or a deadline's latest timer).

    Raises:
        CsworkError: the case has no such timer.
    """
    timer = _find(timers, which, case.id)
    d = stepper.wf.deadlines[timer.deadline]
    dl = stepper.deadlines
    start, counted = _start(d, case, timer)
    if timer.kind == "period" and timer.period > 1:
        # The period before, in this chain: a case that left the scope and came
        # back has older chains with the same period numbers. A chain's next
        # period is armed when the previous one fires, so it is the latest
        # fired one that was due before this one was armed.
        prev = [
            t for t in timers
            if t.deadline == d.name and t.kind == "period" and t.state == "fired"
            and t.period == timer.period - 1 and t.due_at <= timer.armed_at
        ]  # fmt: skip
        start = max(prev, key=lambda t: t.due_at).due_at if prev else start
    head = [f"deadline {d.name!r}" + (f" ({d.spec.title})" if d.spec.title else "")]
    head.append(
        f"timer {timer.id}: {timer.kind}"
        + (f" of period {timer.period}" if timer.kind == "period" else "")
        + f", {timer.state}"
    )
    cal: AddExplanation | None = None
    if d.spec.at is not None:
        basis = "field"
        head.append(
            f"due at the time in field {d.spec.at!r} when the case entered "
            "the deadline's scope or the field changed"
        )
        body = [f"due {timer.due_at.isoformat()}"]
    else:
        basis = d.spec.basis or "wall"
        cal_of = dl.calendars[d.name]
        if d.off_hours is not None and not cal_of.is_working_time(start):
            basis = d.off_hours[1]
            head.append(
                f"the count started outside working time: {d.spec.off_hours.after} "  # type: ignore[union-attr]
                f"of {basis} time instead"
            )
        if d.anchor != "scope":
            head.append(f"counted from {counted} ({start.isoformat()})")
        end = timer.due_at
        if d.spec.on_working_day and timer.kind != "warn":
            moved = [t for t in [_unrolled(dl, d, start, basis)] if t and t != end]
            if moved:
                head.append(
                    f"{moved[0].isoformat()} is outside working time: moved to the "
                    "start of the next working period"
                )
                end = moved[0]
        if basis == "working":
            span = cal_of.working_time_between(start, end)
        else:
            span = end - start
        head.append(
            f"basis: {basis} time"
            + (
                f" on calendar {dl.calendars[d.name].name!r}"
                if basis == "working"
                else ""
            )
        )
        if basis == "working":
            cal = cal_of.explain_add(start, span)
            body = cal.lines()
        else:
            body = [
                f"start {start.isoformat()}",
                f"+ {format_duration(span)} on the wall clock",
                f"due {end.isoformat()}",
            ]
    return Explanation(
        case.id,
        d.name,
        d.spec.title,
        timer,
        basis,
        start,
        timer.due_at,
        cal,
        tuple(head + body),
    )


def _find(timers: Sequence[Timer], which: str, case_id: str) -> Timer:
    by_id = [t for t in timers if t.id == which]
    if by_id:
        return by_id[0]
    named = [t for t in timers if t.deadline == which and t.kind != "warn"]
    if not named:
        known = sorted({t.deadline for t in timers})
        raise CsworkError(
            f"case {case_id!r} has no timer {which!r}"
            + (f"; its deadlines: {', '.join(known)}" if known else "")
        )
    return max(named, key=lambda t: (t.armed_at, t.period))


def _start(d: CompiledDeadline, case: Case, timer: Timer) -> tuple[datetime, str]:
    """When the deadline's count started, and what that moment was."""
    if d.anchor == "start":
        if case.accepted_at != case.created_at:
            return case.accepted_at, "the acceptance of the case it was converted from"
        return case.created_at, "the case's start (acceptance)"
    kind, _, name = d.anchor.partition(":")
    key = stamp_field(name) if kind == "event" else name
    value = case.data.get(key) if kind in ("event", "field") else None
    if isinstance(value, str):
        moment = datetime.fromisoformat(value)
        if moment <= timer.armed_at:
            what = f"event {name!r}" if kind == "event" else f"field {name!r}"
            return moment, what
    return timer.armed_at, "entering the deadline's scope"


def _unrolled(
    dl: Deadlines, d: CompiledDeadline, start: datetime, basis: str
) -> datetime | None:
    """The due time before ``on_working_day`` moved it (None: months)."""
    span = d.after or d.every
    if span is None or span.months:
        return None
    return dl.later(d, start, span, basis)
