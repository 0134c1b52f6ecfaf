"""Deadline semantics as pure functions: what a step does to a case's timers.

A deadline is *armed* when a case enters its scope (a set of states) and its
``when`` holds, and *cancelled* when the case leaves the scope. A ``met_by``
event (or entering a ``met_in`` state) meets it early: a one-shot deadline is
then ended, a recurring one marks its current period met. A window
(``not_before``) cannot be met before it opens: the step is refused, or the
deadline is counted as missed (``early: miss``).

Its due time counts from the moment ``from`` names — entering the scope, the
case's start, the last time an event happened, a datetime field — in working
time (the calendar) or on the wall clock (months are calendar months in the
calendar's zone); or it is a datetime field's time, shifted by an
``offset``. A count that starts outside working time may use other timing
(``off_hours``); a due time outside working time may move to the next
working period (``on_working_day``). Armed with its due time already past (a
deadline counted from acceptance, armed only when the severity is known), it
falls due at once, with its true due time.

The case knows the ids of each armed deadline's pending timers, so a plan
names exactly the timers it closes: a step never looks at the case's older
timers, however many it had.
"""

from __future__ import annotations

import calendar as _months
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from cswork.calendar import WorkingCalendar
from cswork.durations import Duration
from cswork.engine.compile import (
    CompiledDeadline,
    CompiledWorkflow,
    opens_field,
    stamp_field,
)
from cswork.engine.guards import ViewFn
from cswork.records import JSON, Scalar, Timer, TimerKind

log = logging.getLogger("cswork.deadlines")

#: Whole periods a recurring obligation catches up at most in one firing
#: (a clock jump of years would otherwise walk a calendar for ever).
MAX_CATCH_UP = 100_000


@dataclass
class TimerPlan:
    """What a step does to timers, and what to say about it in the history.

    Attributes:
        armed: the case's armed deadlines after the step → their due times.
        ids: the case's armed deadlines after the step → pending timer ids.
        cancel: ids of timers to cancel.
        meet: ids of period timers to mark met.
        arm: new timers.
        detail: for the history entry (armed/cancelled/met names…).
        data: case data the deadlines keep (when a window opens).
        breaches: deadlines missed by this step (met before their window).
    """

    armed: dict[str, datetime]
    ids: dict[str, tuple[str, ...]]
    cancel: list[str] = field(default_factory=list)
    meet: list[str] = field(default_factory=list)
    arm: list[Timer] = field(default_factory=list)
    detail: dict[str, JSON] = field(default_factory=dict)
    data: dict[str, Scalar] = field(default_factory=dict)
    breaches: int = 0

    def note(self, key: str, name: str) -> None:
        """Record ``name`` under ``key`` (armed/cancelled/met) in the detail."""
        items = self.detail.setdefault(key, [])
        assert isinstance(items, list)  # noqa: S101 - we only store lists here
        items.append(name)


@dataclass(frozen=True, slots=True)
class StepFacts:
    """What a step is, for planning its deadlines."""

    case_id: str
    before: str | None
    after: str
    event: str
    created_at: datetime  # the case's acceptance: ``Case.accepted_at``
    now: datetime


class Deadlines:
    """Arms, cancels and advances the deadlines of one workflow version."""

    def __init__(
        self,
        wf: CompiledWorkflow,
        calendars: Mapping[str, WorkingCalendar],
        new_id: Callable[[], str],
    ) -> None:
        self.wf = wf
        self.new_id = new_id
        default = wf.definition.calendar
        self.calendars = {
            name: calendars[d.spec.calendar or default]
            for name, d in wf.deadlines.items()
        }
        # (Built by walking each deadline's own scope and events: linear in
        # the workflow's size, not states × deadlines.)
        order = list(wf.deadlines.values())
        self._touching: dict[str, list[CompiledDeadline]] = {
            state: [] for state in wf.definition.states
        }
        self._met_by: dict[str, list[CompiledDeadline]] = {}
        self._met_in: dict[str, list[CompiledDeadline]] = {}
        for d in order:
            for state in d.scope:
                self._touching.setdefault(state, []).append(d)
            for event in d.met_by:
                self._met_by.setdefault(event, []).append(d)
            for state in d.met_in:
                self._met_in.setdefault(state, []).append(d)
        self._at = [d for d in order if d.spec.at is not None]
        self._candidate_cache: dict[
            tuple[str | None, str, str], list[CompiledDeadline]
        ] = {}
        self._totals = {
            d.name: self._total(d.after or d.every, d.spec.basis, d)  # type: ignore[arg-type]
            for d in order
            if (d.after or d.every) and not (d.after or d.every).months  # type: ignore[union-attr]
        }

    # ------------------------------------------------------------ due times
    def _total(
        self, span: Duration, basis: str | None, d: CompiledDeadline
    ) -> timedelta:
        if basis == "working":
            return span.working(self.calendars[d.name].day_length)
        return span.wall()

    def total(self, d: CompiledDeadline) -> timedelta:
        """The length of an ``after`` deadline or of one period, in its basis."""
        return self._totals[d.name]

    def add(self, d: CompiledDeadline, start: datetime, span: timedelta) -> datetime:
        """``start`` plus ``span`` in the deadline's basis."""
        if d.spec.basis == "working":
            return self.calendars[d.name].add(start, span)
        return start + span

    def later(
        self, d: CompiledDeadline, start: datetime, span: Duration, basis: str | None
    ) -> datetime:
        """``start`` plus a duration (months first) in ``basis``."""
        cal = self.calendars[d.name]
        if span.months:
            # Months move the date first; the rest of the duration then counts
            # from there (a Duration with months has no length of its own).
            start = add_months(
                start, -span.months if span.negative else span.months, cal
            )
            span = replace(span, months=0)
        if span.negative:
            length = span.working(cal.day_length) if basis == "working" else span.wall()
            return cal.subtract(start, length) if basis == "working" else start - length
        if basis == "working":
            return cal.add(start, span.working(cal.day_length))
        return start + span.wall()

    def due(
        self, d: CompiledDeadline, start: datetime, data: Mapping[str, Scalar]
    ) -> datetime | None:
        """When a deadline whose count starts at ``start`` falls due (None: unset)."""
        cal = self.calendars[d.name]
        if d.spec.at is not None:
            value = data.get(d.spec.at)
            if not isinstance(value, str):
                return None
            due = datetime.fromisoformat(value)
            if d.offset is not None:
                due = self.later(d, due, d.offset, d.spec.basis)
        else:
            span: Duration | None = d.after or d.every
            basis: str | None = d.spec.basis
            if d.off_hours is not None and not cal.is_working_time(start):
                span, basis = d.off_hours
            assert span is not None  # noqa: S101 - after/every deadlines only
            due = self.later(d, start, span, basis)
        if d.spec.on_working_day:
            due = cal.next_working_time(due)
        return due

    def warn_at(
        self, d: CompiledDeadline, start: datetime, due: datetime
    ) -> datetime | None:
        """When to warn about a deadline counted from ``start``, or None."""
        warn = d.spec.warn
        if warn is None or d.every is not None:
            return None
        working = d.spec.basis == "working" and d.spec.at is None
        cal = self.calendars[d.name]
        if warn.percent is not None:
            if working:
                share = cal.working_time_between(start, due) * warn.percent / 100
                return self.add(
                    d, start, timedelta(seconds=round(share.total_seconds()))
                )
            return start + (due - start) * warn.percent / 100
        assert d.warn_before is not None  # noqa: S101 - validated by the model
        if working:
            return cal.subtract(due, d.warn_before.working(cal.day_length))
        return due - d.warn_before.wall()

    def start_of(
        self,
        d: CompiledDeadline,
        facts: StepFacts,
        data: Mapping[str, Scalar],
    ) -> datetime | None:
        """When a deadline's count starts, as ``from`` says (None: not known)."""
        anchor = d.anchor
        if anchor == "scope":
            return facts.now
        if anchor == "start":
            return facts.created_at
        name = anchor.partition(":")[2]
        key = stamp_field(name) if anchor.startswith("event:") else name
        value = data.get(key)
        if isinstance(value, str):
            return datetime.fromisoformat(value)
        return facts.now if anchor.startswith("event:") else None

    # --------------------------------------------------------------- arming
    def _timer(
        self,
        d: CompiledDeadline,
        case_id: str,
        kind: TimerKind,
        due: datetime,
        now: datetime,
        period: int = 0,
    ) -> Timer:
        return Timer(
            id=self.new_id(),
            case_id=case_id,
            deadline=d.name,
            kind=kind,
            period=period,
            due_at=due,
            armed_at=now,
        )

    def arm(
        self,
        d: CompiledDeadline,
        facts: StepFacts,
        data: Mapping[str, Scalar],
        plan: TimerPlan,
    ) -> None:
        """Arm ``d`` (and its warning), counting from where ``from`` says."""
        start = self.start_of(d, facts, data)
        if start is None:
            return
        due = self.due(d, start, data)
        if due is None:
            return
        now = facts.now
        kind: TimerKind = "period" if d.every is not None else "due"
        main = self._timer(
            d, facts.case_id, kind, due, now, 1 if kind == "period" else 0
        )
        plan.arm.append(main)
        ids: tuple[str, ...] = (main.id,)
        warn = self.warn_at(d, start, due)
        if warn is not None and now < warn < due:
            early = self._timer(d, facts.case_id, "warn", warn, now)
            plan.arm.append(early)
            ids = (main.id, early.id)
        plan.armed[d.name] = due
        plan.ids[d.name] = ids
        plan.note("armed", d.name)
        if d.not_before is not None:
            opens = self.later(d, start, d.not_before, d.spec.basis)
            plan.data[opens_field(d.name)] = opens.isoformat()
        if d.spec.basis == "working" or d.spec.on_working_day:
            self._check_coverage(d, due, plan)

    def _check_coverage(
        self, d: CompiledDeadline, due: datetime, plan: TimerPlan
    ) -> None:
        cal = self.calendars[d.name]
        year = due.astimezone(cal.tz).year
        if not cal.covers(year):
            text = (
                f"deadline {d.name!r} is due in {year}, for which calendar "
                f"{cal.name!r} has no complete holiday data; add that year's "
                "holidays and make-up days to the calendar"
            )
            plan.detail.setdefault("calendar_warnings", []).append(text)  # type: ignore[union-attr]
            log.warning("%s", text)

    def next_period(
        self, d: CompiledDeadline, timer: Timer, now: datetime
    ) -> tuple[Timer, int]:
        """The timer of the next period, and how many whole periods it skips.

        The next period is the first ending after ``now``; the skipped ones
        ended after ``timer``'s and at or before ``now``. A clock that jumped
        (or a worker that was down for a year) thus settles in one step: the
        periods in between are counted, not fired one by one.
        """
        span = d.every
        assert span is not None  # noqa: S101 - recurring deadlines only
        due = self.later(d, timer.due_at, span, d.spec.basis)
        skipped = 0
        while due <= now and skipped < MAX_CATCH_UP:
            due = self.later(d, due, span, d.spec.basis)
            skipped += 1
        nxt = self._timer(
            d, timer.case_id, "period", due, now, timer.period + 1 + skipped
        )
        return nxt, skipped

    # -------------------------------------------------------------- planning
    def plan(
        self,
        facts: StepFacts,
        armed: Mapping[str, datetime],
        ids: Mapping[str, tuple[str, ...]],
        changes: Mapping[str, Scalar],
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        view: ViewFn,
    ) -> TimerPlan | None:
        """What the step ``facts`` describes does to deadlines.

        None when the step can affect no deadline (most steps): the case's
        armed deadlines stay as they are.
        """
        before, after, event = facts.before, facts.after, facts.event
        candidates = self._candidates(before, after, event, changes)
        if not candidates:
            return None
        plan = TimerPlan(armed=dict(armed), ids=dict(ids))
        for d in candidates:
            was_in = before in d.scope
            is_in = after in d.scope
            if before != after and after in d.met_in and d.name in plan.armed:
                self._met(d, plan, data, facts.now)
                if d.every is None or not is_in:
                    self._drop(d, plan, "cancelled")
                continue
            if was_in and not is_in:
                self._drop(d, plan, "cancelled")
            elif was_in and is_in:
                self._inside(d, plan, facts, changes, data, counters, view)
            elif is_in and (d.when is None or d.when(data, counters, view)):
                self.arm(d, facts, data, plan)
        return plan

    def _candidates(
        self, before: str | None, after: str, event: str, changes: Mapping[str, Scalar]
    ) -> list[CompiledDeadline]:
        """The deadlines a step from ``before`` to ``after`` can affect, in order."""
        key = (before, after, event)
        found = self._candidate_cache.get(key)
        if found is None:
            found = self._candidate_cache[key] = self._find_candidates(
                before, after, event
            )
        if before != after or not self._at:
            return found
        more = [d for d in self._at if d.spec.at in changes and after in d.scope]
        return found + [d for d in more if d not in found] if more else found

    def _find_candidates(
        self, before: str | None, after: str, event: str
    ) -> list[CompiledDeadline]:
        if before != after:
            touched = self._touching.get(before, []) if before else []
            pool = [*touched, *self._touching[after], *self._met_in.get(after, ())]
            seen: dict[str, CompiledDeadline] = {}
            for d in pool:
                seen.setdefault(d.name, d)
            return sorted(seen.values(), key=lambda d: d.position)
        return [d for d in self._met_by.get(event, ()) if after in d.scope]

    @staticmethod
    def _drop(d: CompiledDeadline, plan: TimerPlan, why: str) -> None:
        if d.name in plan.armed:
            del plan.armed[d.name]
            plan.cancel.extend(plan.ids.pop(d.name, ()))
            plan.note(why, d.name)

    def _met(
        self, d: CompiledDeadline, plan: TimerPlan, data: Mapping[str, Scalar],
        now: datetime,
    ) -> None:  # fmt: skip
        """``d`` is met now — unless its window has not opened (``early: miss``)."""
        opens = data.get(opens_field(d.name))
        if isinstance(opens, str) and now < datetime.fromisoformat(opens):
            plan.breaches += 1
            self._drop(d, plan, "missed_early")
            return
        if d.every is not None:
            plan.meet.extend(plan.ids.get(d.name, ())[:1])
            plan.note("met", d.name)
        else:
            self._drop(d, plan, "met")

    def _inside(
        self,
        d: CompiledDeadline,
        plan: TimerPlan,
        facts: StepFacts,
        changes: Mapping[str, Scalar],
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        view: ViewFn,
    ) -> None:
        if facts.event in d.met_by and d.name in plan.armed:
            self._met(d, plan, data, facts.now)
        elif d.spec.at is not None and d.spec.at in changes:
            # The time moved (or was set): re-arm, if the deadline applies.
            self._drop(d, plan, "cancelled")
            if d.when is None or d.when(data, counters, view):
                self.arm(d, facts, data, plan)


def add_months(t: datetime, months: int, cal: WorkingCalendar) -> datetime:
    """``t`` plus calendar months in ``cal``'s zone (the 31st → the month's last day)."""
    local = t.astimezone(cal.tz)
    index = local.month - 1 + months
    year, month = local.year + index // 12, index % 12 + 1
    day = min(local.day, _months.monthrange(year, month)[1])
    moved = local.replace(year=year, month=month, day=day)
    # Same wall-clock time in the zone (a DST change in between is absorbed).
    return datetime.combine(moved.date(), moved.time(), cal.tz).astimezone(t.tzinfo)
