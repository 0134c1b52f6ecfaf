"""The design's invariants as plain functions, usable without hypothesis.

Each ``check_*`` function raises ``InvariantViolation`` (an ``AssertionError``)
with a message saying what broke, so they work in any test runner::

    from cswork.testing.invariants import check_case
    for case in engine.query():
        check_case(engine, case.id)
"""

from __future__ import annotations

from calendar import monthrange
from collections.abc import Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

from cswork.definition.actions import Assign
from cswork.durations import parse_duration
from cswork.engine import Engine
from cswork.engine.replay import replay
from cswork.records import Timer


class InvariantViolation(AssertionError):
    """An invariant of the design does not hold."""


def _fail(case_id: str, message: str) -> InvariantViolation:
    return InvariantViolation(f"case {case_id}: {message}")


def snapshot(engine: Engine, case_id: str) -> tuple[Any, ...]:
    """Everything the store returns about a case (to compare before and after)."""
    return (
        engine.get(case_id),
        engine.history(case_id),
        engine.timers(case_id, pending_only=False),
    )


def check_declared_state(engine: Engine, case_id: str) -> None:
    """Invariant 1: a case is always in a state its definition declares."""
    case = engine.get(case_id)
    definition = engine.definition(case.workflow_id, case.workflow_version)
    if case.state not in definition.states:
        raise _fail(case_id, f"state {case.state!r} is not declared")
    if case.closed != definition.states[case.state].final:
        raise _fail(
            case_id,
            f"closed={case.closed} but {case.state!r} final="
            f"{definition.states[case.state].final}",
        )


def check_unchanged(
    before: tuple[Any, ...], after: tuple[Any, ...], case_id: str
) -> None:
    """Invariant 2: a refused step left case, history and timers as they were."""
    if before != after:
        raise _fail(case_id, "a refused step changed the store")


def check_replay(engine: Engine, case_id: str) -> None:
    """Invariant 3: replaying the history reproduces state, data and counters."""
    case = engine.get(case_id)
    try:
        r = replay(engine.history(case_id))
    except ValueError as exc:
        raise _fail(case_id, f"history does not replay: {exc}") from None
    got = (r.state, r.data, r.counters, r.version)
    want = (case.state, dict(case.data), dict(case.counters), case.version)
    if got != want:
        raise _fail(case_id, f"replay gives {got}, the case is {want}")


def check_timers(engine: Engine, case_id: str, now: datetime | None = None) -> None:
    """Invariant 4: every timer ends once — fired at or after its due time, or cancelled.

    Also: the history names each fired timer exactly once; the case's
    ``armed`` map matches its pending timers; and, given ``now`` (after
    ``run_due``), no pending timer is overdue.
    """
    case = engine.get(case_id)
    timers = engine.timers(case_id, pending_only=False)
    fired_in_history = [
        h.detail.get("timer")
        for h in engine.history(case_id)
        if h.kind in ("deadline", "warning", "period")
    ]
    if len(fired_in_history) != len(set(fired_in_history)):
        raise _fail(case_id, "a timer fired twice")
    fired = {t.id for t in timers if t.state == "fired"}
    if fired != set(fired_in_history):
        raise _fail(
            case_id,
            f"fired timers {sorted(fired)} != history "
            f"{sorted(map(str, fired_in_history))}",
        )
    for t in timers:
        _check_timer(case_id, t, now)
    pending = {t.deadline for t in timers if t.state == "pending" and t.kind != "warn"}
    if pending != set(case.armed):
        raise _fail(
            case_id,
            f"pending deadlines {sorted(pending)} != armed {sorted(case.armed)}",
        )
    by_deadline: dict[str, set[str]] = {}
    for t in timers:
        if t.state == "pending":
            by_deadline.setdefault(t.deadline, set()).add(t.id)
        if (
            t.state == "pending"
            and t.kind != "warn"
            and case.armed[t.deadline] != t.due_at
        ):
            raise _fail(case_id, f"armed {t.deadline} is not due when its timer is")
    known = {name: set(ids) for name, ids in case.timer_ids.items()}
    if by_deadline != known:
        raise _fail(
            case_id, f"pending timers {by_deadline} != the case's timer ids {known}"
        )


def _check_timer(case_id: str, t: Timer, now: datetime | None) -> None:
    if t.state == "pending":
        if t.closed_at is not None:
            raise _fail(case_id, f"pending timer {t.id} has a closing time")
        if now is not None and t.due_at <= now:
            raise _fail(
                case_id, f"timer {t.id} ({t.deadline}) due {t.due_at} is overdue"
            )
        return
    if t.closed_at is None:
        raise _fail(case_id, f"{t.state} timer {t.id} has no closing time")
    if t.state == "fired" and t.closed_at < t.due_at:
        raise _fail(case_id, f"timer {t.id} fired at {t.closed_at}, before {t.due_at}")


def check_due_times(engine: Engine, case_id: str) -> None:
    """Invariant 5: due times agree with the calendar, as each deadline declares.

    Counted from the start ``explain`` reports (scope entry, acceptance, an
    event or the previous period's end): a working-time due time lies at the
    end of exactly the declared amount of working time (and in working time);
    a wall-clock one exactly the declared duration later, calendar months
    first. ``off_hours`` timing applies when the start is outside working
    time; with ``on_working_day`` a due time outside working time moves to
    the next working moment and nothing else. Deadlines on a field (``at``)
    are not checked here.
    """
    case = engine.get(case_id)
    definition = engine.definition(case.workflow_id, case.workflow_version)
    for t in engine.timers(case_id, pending_only=False):
        spec = definition.deadlines[t.deadline]
        if t.kind == "warn" or spec.at is not None:
            continue
        start = engine.explain(case_id, t.id).start
        cal = engine.calendars[spec.calendar or definition.calendar]
        text, basis = spec.after or spec.every, spec.basis
        if spec.off_hours is not None and not cal.is_working_time(start):
            text, basis = spec.off_hours.after, spec.off_hours.basis
        assert text is not None  # noqa: S101 - only after/every deadlines get here
        span = parse_duration(text)
        if span.months:
            start = _plus_months(start, span.months, cal.tz)
        if basis == "wall":
            expected = start + span.wall()
            if spec.on_working_day and not cal.is_working_time(expected):
                moved = cal.working_time_between(expected, t.due_at) == timedelta(0)
                if t.due_at < expected or not moved:
                    raise _fail(case_id, f"timer {t.id} is not the next working moment")
                expected = t.due_at
            if t.due_at != expected:
                raise _fail(case_id, f"wall-clock timer {t.id} is off")
            continue
        declared = span.working(cal.day_length)
        got = cal.working_time_between(start, t.due_at)
        if got != declared:
            raise _fail(
                case_id,
                f"timer {t.id} ({t.deadline}) is {got} of working "
                f"time after its start, not {declared}",
            )
        moment = (
            t.due_at if spec.on_working_day else t.due_at - timedelta(microseconds=1)
        )
        if not cal.is_working_time(moment):
            raise _fail(case_id, f"timer {t.id} is due outside working time")


def _plus_months(t: datetime, months: int, tz: tzinfo) -> datetime:
    """``t`` plus calendar months on the local wall clock (the 31st → the last day)."""
    local = t.astimezone(tz)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(t.tzinfo)


def check_ownership(engine: Engine, case_id: str) -> None:
    """A case's owner is a person and its unit one its workflow names.

    ``Case.owner`` and ``Case.unit`` mirror the workflow's owner and unit
    fields (and are None when it has none); an owner is non-empty text; a
    unit is a value of the unit field when that is an enum, or a unit an
    ``assign:`` names.
    """
    case = engine.get(case_id)
    d = engine.definition(case.workflow_id, case.workflow_version)
    owner_field, unit_field = d.people_fields()
    for what, field, value in (("owner", owner_field, case.owner),
                               ("unit", unit_field, case.unit)):  # fmt: skip
        mirrored = case.data.get(field) if field else None
        if value != mirrored:
            raise _fail(
                case_id, f"{what} is {value!r} but its field holds {mirrored!r}"
            )
    if case.owner is not None and not case.owner.strip():
        raise _fail(case_id, f"owner {case.owner!r} is not a person")
    if case.unit is not None and unit_field is not None:
        spec = d.fields[unit_field]
        if spec.type == "enum":
            named = set(spec.values or ())
            assigns: list[Assign | None] = [d.start.assign]
            assigns += [t.assign for t in d.transitions]
            named |= {
                a.unit for a in assigns if a is not None and isinstance(a.unit, str)
            }
            if case.unit not in named:
                raise _fail(
                    case_id, f"unit {case.unit!r} is not one the workflow names"
                )


def check_case(engine: Engine, case_id: str, now: datetime | None = None) -> None:
    """Invariants 1, 3, 4 and 5, and ownership, for one case."""
    check_declared_state(engine, case_id)
    check_ownership(engine, case_id)
    check_replay(engine, case_id)
    check_timers(engine, case_id, now)
    check_due_times(engine, case_id)


def check_engines_agree(engines: Sequence[Engine], case_ids: Sequence[str]) -> None:
    """Invariant 6: what one backend stores, every backend returns equal."""
    first = engines[0]
    for other in engines[1:]:
        for cid in case_ids:
            a, b = snapshot(first, cid), snapshot(other, cid)
            if a != b:
                names = (type(first.store).__name__, type(other.store).__name__)
                raise _fail(cid, f"{names[0]} and {names[1]} disagree")
