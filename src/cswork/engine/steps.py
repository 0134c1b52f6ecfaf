"""From a request (start, event, timer) to the ``CaseChange`` that records it.

Pure: the time, the case and the request go in, a ``CaseChange`` (or a
``RejectedError``) comes out. The engine facade does the I/O around it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any

from cswork.calendar import WorkingCalendar
from cswork.engine.compile import CompiledWorkflow
from cswork.engine.effects import ActionContext, Effects, apply_actions, outbox_item
from cswork.engine.hooks import CaseView
from cswork.engine.timers import Deadlines, TimerPlan
from cswork.errors import RejectedError
from cswork.records import (
    JSON,
    SYSTEM_ACTOR,
    Actor,
    Case,
    CaseChange,
    HistoryEntry,
    HistoryKind,
    OutboxItem,
    Scalar,
    Timer,
)


class Stepper:
    """Builds the changes of one workflow version's cases."""

    def __init__(
        self,
        wf: CompiledWorkflow,
        calendars: Mapping[str, WorkingCalendar],
        new_id: Callable[[], str],
    ) -> None:
        self.wf = wf
        self.new_id = new_id
        self.deadlines = Deadlines(wf, calendars, new_id)
        cf = wf.definition.customer_field
        self.customer_field = cf

    def _view(
        self,
        case_id: str,
        state: str,
        event: str,
        actor: Actor,
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        payload: Mapping[str, Scalar],
    ) -> Callable[[], CaseView]:
        return lambda: CaseView(
            case_id, self.wf.id, state, event, actor, data, counters, payload
        )

    def _customer(self, data: Mapping[str, Scalar]) -> str | None:
        value = data.get(self.customer_field) if self.customer_field else None
        return value if isinstance(value, str) else None

    def _entry(
        self,
        case: Case,
        seq: int,
        now: datetime,
        kind: HistoryKind,
        event: str,
        actor: Actor,
        to_state: str,
        fx: Effects,
        detail: dict[str, JSON],
    ) -> HistoryEntry:
        if fx.notified:
            detail["notified"] = list(fx.notified)
        return HistoryEntry(
            case_id=case.id,
            seq=seq,
            at=now,
            kind=kind,
            event=event,
            actor=actor.id,
            roles=tuple(sorted(actor.roles)),
            from_state=case.state if kind != "start" else None,
            to_state=to_state,
            changes=dict(fx.changes),
            counters=dict(fx.counter_changes),
            detail=detail,
        )

    # ---------------------------------------------------------------- start
    def start(
        self, case_id: str, actor: Actor, payload: Mapping[str, Any], now: datetime
    ) -> CaseChange:
        """The change that creates a case."""
        wf = self.wf
        counters = dict.fromkeys(wf.definition.counters, 0)
        view = self._view(case_id, "", "start", actor, {}, counters, {})
        sel = wf.check_start(actor, payload, view)
        fx = Effects(data=dict(sel.data), counters=counters, changes=dict(sel.payload))
        fx.counter_changes = dict(counters)
        view = self._view(case_id, "", "start", actor, fx.data, counters, sel.payload)
        ctx = ActionContext(case_id, "start", actor, now, self.new_id, view)
        apply_actions(wf.start.actions, fx, ctx)
        plan = self.deadlines.plan(
            case_id=case_id,
            before=None,
            after=wf.initial,
            event="start",
            armed={},
            changes=fx.changes,
            data=fx.data,
            counters=fx.counters,
            now=now,
            view=view,
        )
        case = Case(
            id=case_id,
            workflow_id=wf.id,
            workflow_version=wf.version,
            state=wf.initial,
            data=fx.data,
            counters=fx.counters,
            customer=self._customer(fx.data),
            closed=wf.initial in wf.final,
            breaches=0,
            armed=plan.armed,
            version=1,
            created_at=now,
            updated_at=now,
        )
        entry = self._entry(
            case, 1, now, "start", "start", actor, wf.initial, fx, dict(plan.detail)
        )
        return CaseChange(
            case=case,
            expected_version=0,
            entries=(entry,),
            arm=tuple(plan.arm),
            outbox=tuple(fx.outbox),
        )

    # ---------------------------------------------------------------- event
    def event(
        self,
        case: Case,
        event: str,
        actor: Actor,
        payload: Mapping[str, Any],
        now: datetime,
    ) -> CaseChange:
        """The change that fires ``event`` on ``case``.

        Raises:
            RejectedError: the event is refused; nothing is to be written.
        """
        wf = self.wf
        sel = wf.select(
            case_id=case.id,
            state=case.state,
            event=event,
            actor=actor,
            data=case.data,
            counters=case.counters,
            payload=payload,
        )
        fx = Effects(
            data=sel.data, counters=dict(case.counters), changes=dict(sel.payload)
        )
        view = self._view(
            case.id, case.state, event, actor, fx.data, fx.counters, sel.payload
        )
        apply_actions(
            sel.step.actions,
            fx,
            ActionContext(case.id, event, actor, now, self.new_id, view),
        )
        dest = sel.step.dest or case.state
        plan = self.deadlines.plan(
            case_id=case.id,
            before=case.state,
            after=dest,
            event=event,
            armed=case.armed,
            changes=fx.changes,
            data=fx.data,
            counters=fx.counters,
            now=now,
            view=view,
        )
        return self._finish(case, now, "event", event, actor, dest, fx, plan)

    def _finish(
        self,
        case: Case,
        now: datetime,
        kind: HistoryKind,
        event: str,
        actor: Actor,
        dest: str,
        fx: Effects,
        plan: TimerPlan,
        *,
        breaches: int = 0,
        detail: dict[str, JSON] | None = None,
        fired_timer: str = "",
    ) -> CaseChange:
        entry = self._entry(
            case,
            case.version + 1,
            now,
            kind,
            event,
            actor,
            dest,
            fx,
            {**(detail or {}), **plan.detail},
        )
        new = Case(  # not dataclasses.replace: this is the hot path
            id=case.id,
            workflow_id=case.workflow_id,
            workflow_version=case.workflow_version,
            state=dest,
            data=fx.data,
            counters=fx.counters,
            customer=self._customer(fx.data),
            closed=dest in self.wf.final,
            breaches=case.breaches + breaches,
            armed=plan.armed,
            version=case.version + 1,
            created_at=case.created_at,
            updated_at=now,
        )
        change = CaseChange(
            case=new,
            expected_version=case.version,
            entries=(entry,),
            cancel=tuple(plan.cancel),
            meet=tuple(plan.meet),
            arm=tuple(plan.arm),
            fired_timer=fired_timer,
            outbox=tuple(fx.outbox),
        )
        for ev in fx.fire:
            change = _chain(change, self._system_fire(change.case, ev, now))
        return change

    def _system_fire(self, case: Case, event: str, now: datetime) -> CaseChange | str:
        try:
            return self.event(case, event, SYSTEM_ACTOR, {}, now)
        except RejectedError as exc:
            return str(exc)

    # ---------------------------------------------------------------- timer
    def timer(
        self, case: Case, timer: Timer, now: datetime, worker: str = ""
    ) -> CaseChange:
        """The change a due timer makes: a warning, a breach, or a period's end.

        ``worker`` (the engine that fires it) is noted in the history entry.
        """
        d = self.wf.deadlines[timer.deadline]
        fx = Effects(data=dict(case.data), counters=dict(case.counters))
        plan = TimerPlan(armed=dict(case.armed))
        detail: dict[str, JSON] = {
            "timer": timer.id,
            "due_at": timer.due_at.isoformat(),
        }
        if worker:
            detail["worker"] = worker
        view = self._view(
            case.id, case.state, d.name, SYSTEM_ACTOR, fx.data, fx.counters, {}
        )
        ctx = ActionContext(case.id, d.name, SYSTEM_ACTOR, now, self.new_id, view)
        breaches = 0
        if timer.kind == "warn":
            kind: HistoryKind = "warning"
            assert d.spec.warn is not None  # noqa: S101 - warn timers need a warning
            detail["deadline_due_at"] = case.armed.get(d.name)
            fx.notified = list(d.spec.warn.notify)
            fx.outbox.append(_warning(ctx, tuple(d.spec.warn.notify), d.spec.title))
        elif timer.kind == "due":
            kind, breaches = "deadline", 1
            detail["outcome"] = "breached"
            plan.armed.pop(d.name, None)
            apply_actions(d.on_due, fx, ctx)
        else:
            kind = "period"
            detail["period"] = timer.period
            detail["outcome"] = "met" if timer.met else "missed"
            nxt = self.deadlines.next_period(d, timer, now)
            plan.arm.append(nxt)
            plan.armed[d.name] = nxt.due_at.isoformat()
            if not timer.met:
                breaches = 1
                apply_actions(d.on_due, fx, ctx)
        return self._finish(
            case,
            now,
            kind,
            d.name,
            SYSTEM_ACTOR,
            case.state,
            fx,
            plan,
            breaches=breaches,
            detail=detail,
            fired_timer=timer.id,
        )


def _warning(ctx: ActionContext, roles: tuple[str, ...], title: str) -> OutboxItem:
    text = f"deadline {ctx.reason!r}" + (f" ({title})" if title else "") + " is near"
    return outbox_item(ctx, "notify", roles=roles, message=text)


def _chain(first: CaseChange, second: CaseChange | str) -> CaseChange:
    """One change doing ``first`` then ``second`` (a refusal is noted instead)."""
    if isinstance(second, str):
        entry = first.entries[-1]
        detail = {**entry.detail, "fire_refused": second}
        return replace(
            first, entries=(*first.entries[:-1], replace(entry, detail=detail))
        )
    dropped = set(second.cancel)
    return CaseChange(
        case=second.case,
        expected_version=first.expected_version,
        entries=first.entries + second.entries,
        cancel=first.cancel + second.cancel,
        meet=tuple(m for m in first.meet if m not in dropped) + second.meet,
        arm=tuple(t for t in first.arm if t.deadline not in dropped) + second.arm,
        fired_timer=first.fired_timer,
        outbox=first.outbox + second.outbox,
    )
