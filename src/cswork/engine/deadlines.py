"""Deadline semantics as pure functions: what a step does to a case's timers.

A deadline is *armed* when a case enters its scope (a set of states) and its
``when`` holds, and *cancelled* when the case leaves the scope. A ``met_by``
event meets it early (a one-shot deadline is then cancelled; a recurring one
marks its current period met). Due times come from the calendar (working
time) or the wall clock, or from a datetime field of the case (``at``).

The case knows the ids of each armed deadline's pending timers, so a plan
names exactly the timers it closes: a step never looks at the case's older
timers, however many it had.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cswork.calendar import WorkingCalendar
from cswork.engine.compile import CompiledDeadline, CompiledWorkflow
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
    """

    armed: dict[str, datetime]
    ids: dict[str, tuple[str, ...]]
    cancel: list[str] = field(default_factory=list)
    meet: list[str] = field(default_factory=list)
    arm: list[Timer] = field(default_factory=list)
    detail: dict[str, JSON] = field(default_factory=dict)

    def note(self, key: str, name: str) -> None:
        """Record ``name`` under ``key`` (armed/cancelled/met) in the detail."""
        items = self.detail.setdefault(key, [])
        assert isinstance(items, list)  # noqa: S101 - we only store lists here
        items.append(name)


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
        # Indexes so that a step only looks at the deadlines it can affect.
        # (Built by walking each deadline's own scope and events: linear in
        # the workflow's size, not states × deadlines.)
        order = list(wf.deadlines.values())
        self._touching: dict[str, list[CompiledDeadline]] = {
            state: [] for state in wf.definition.states
        }
        self._met_by: dict[str, list[CompiledDeadline]] = {}
        for d in order:
            for state in d.scope:
                self._touching.setdefault(state, []).append(d)
            for event in d.met_by:
                self._met_by.setdefault(event, []).append(d)
        self._at = [d for d in order if d.spec.at is not None]
        self._candidate_cache: dict[
            tuple[str | None, str, str], list[CompiledDeadline]
        ] = {}
        self._totals = {d.name: self._total(d) for d in order if d.after or d.every}

    # ------------------------------------------------------------ due times
    def _total(self, d: CompiledDeadline) -> timedelta:
        span = d.after or d.every
        assert span is not None  # noqa: S101 - only called for after/every
        if d.spec.basis == "working":
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

    def due(
        self, d: CompiledDeadline, start: datetime, data: Mapping[str, Scalar]
    ) -> datetime | None:
        """When a deadline armed at ``start`` falls due (None: ``at`` field unset)."""
        if d.spec.at is not None:
            value = data.get(d.spec.at)
            return datetime.fromisoformat(value) if isinstance(value, str) else None
        return self.add(d, start, self._totals[d.name])

    def warn_at(
        self, d: CompiledDeadline, start: datetime, due: datetime
    ) -> datetime | None:
        """When to warn about a deadline armed at ``start``, or None."""
        warn = d.spec.warn
        if warn is None or d.every is not None:
            return None
        working = d.spec.basis == "working"
        if warn.percent is not None:
            if working:
                share = self.total(d) * warn.percent / 100
                return self.add(
                    d, start, timedelta(seconds=round(share.total_seconds()))
                )
            return start + (due - start) * warn.percent / 100
        assert d.warn_before is not None  # noqa: S101 - validated by the model
        if working:
            before = d.warn_before.working(self.calendars[d.name].day_length)
            rest = self.total(d) - before
            return self.add(d, start, rest) if rest > timedelta(0) else None
        return due - d.warn_before.wall()

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
        case_id: str,
        now: datetime,
        data: Mapping[str, Scalar],
        plan: TimerPlan,
    ) -> None:
        """Arm ``d`` (and its warning) from ``now``."""
        due = self.due(d, now, data)
        if due is None:
            return
        kind: TimerKind = "period" if d.every is not None else "due"
        main = self._timer(d, case_id, kind, due, now, 1 if kind == "period" else 0)
        plan.arm.append(main)
        ids: tuple[str, ...] = (main.id,)
        warn = self.warn_at(d, now, due)
        if warn is not None and now < warn < due:
            early = self._timer(d, case_id, "warn", warn, now)
            plan.arm.append(early)
            ids = (main.id, early.id)
        plan.armed[d.name] = due
        plan.ids[d.name] = ids
        plan.note("armed", d.name)
        if d.spec.basis == "working":
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
        ended after ``timer``'s and at or before ``now``. A clock that jumped (or a worker that was down for a year) thus
        settles in one step: the periods in between are counted, not fired
        one by one.
        """
        span = self._totals[d.name]
        due = self.add(d, timer.due_at, span)
        skipped = 0
        while due <= now and skipped < MAX_CATCH_UP:
            due = self.add(d, due, span)
            skipped += 1
        nxt = self._timer(
            d, timer.case_id, "period", due, now, timer.period + 1 + skipped
        )
        return nxt, skipped

    # -------------------------------------------------------------- planning
    def plan(
        self,
        *,
        case_id: str,
        before: str | None,
        after: str,
        event: str,
        armed: Mapping[str, datetime],
        ids: Mapping[str, tuple[str, ...]],
        changes: Mapping[str, Scalar],
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        now: datetime,
        view: ViewFn,
    ) -> TimerPlan | None:
        """What moving from ``before`` to ``after`` by ``event`` does to deadlines.

        None when the step can affect no deadline (most steps): the case's
        armed deadlines stay as they are.
        """
        candidates = self._candidates(before, after, event, changes)
        if not candidates:
            return None
        plan = TimerPlan(armed=dict(armed), ids=dict(ids))
        for d in candidates:
            was_in = before in d.scope
            is_in = after in d.scope
            if was_in and not is_in:
                self._drop(d, plan, "cancelled")
            elif was_in and is_in:
                self._inside(
                    d, plan, event, changes, case_id, now, data, counters, view
                )
            elif is_in and (d.when is None or d.when(data, counters, view)):
                self.arm(d, case_id, now, data, plan)
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
            if not touched:
                return self._touching[after]
            seen = {d.name for d in touched}
            extra = [d for d in self._touching[after] if d.name not in seen]
            return sorted([*touched, *extra], key=lambda d: d.position)
        return [d for d in self._met_by.get(event, ()) if after in d.scope]

    @staticmethod
    def _drop(d: CompiledDeadline, plan: TimerPlan, why: str) -> None:
        if d.name in plan.armed:
            del plan.armed[d.name]
            plan.cancel.extend(plan.ids.pop(d.name, ()))
            plan.note(why, d.name)

    def _inside(
        self,
        d: CompiledDeadline,
        plan: TimerPlan,
        event: str,
        changes: Mapping[str, Scalar],
        case_id: str,
        now: datetime,
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        view: ViewFn,
    ) -> None:
        if event in d.met_by and d.name in plan.armed:
            if d.every is not None:
                plan.meet.extend(plan.ids.get(d.name, ())[:1])
                plan.note("met", d.name)
            else:
                self._drop(d, plan, "met")
        elif d.spec.at is not None and d.spec.at in changes:
            # The time moved (or was set): re-arm, if the deadline applies.
            self._drop(d, plan, "cancelled")
            if d.when is None or d.when(data, counters, view):
                self.arm(d, case_id, now, data, plan)
