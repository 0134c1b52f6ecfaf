"""The plan stage: from a checked request (or a due timer) to the change it makes.

Pure: the case, the request and the time go in; a ``CaseChange`` — the new
case, its history entry, the timers to arm and close, the outbox items and
the linked cases to create — comes out. The engine facade does the I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from functools import lru_cache

from cswork.calendar import WorkingCalendar
from cswork.engine.addressing import address
from cswork.engine.chain import chain
from cswork.engine.check import Request, check_event
from cswork.engine.compile import ACTOR, CompiledStep, CompiledWorkflow, stamp_field
from cswork.engine.deadlines import Deadlines, StepFacts, TimerPlan
from cswork.engine.effects import (
    ActionContext,
    Effects,
    Handover,
    apply_actions,
    handover_item,
    notice_item,
)
from cswork.engine.guards import ViewFn
from cswork.engine.hooks import CaseView, ConditionFn
from cswork.errors import InvalidDataError, RejectedError
from cswork.records import (
    ACCEPTED_FIELD,
    JSON,
    SYSTEM_ACTOR,
    Actor,
    Case,
    CaseChange,
    HistoryEntry,
    HistoryKind,
    Scalar,
    Timer,
    new_case,
    new_change,
    new_entry,
)
from cswork.storage.codec import frozen

#: Plans the start of a linked case: (hand-over, actor, now, source case id)
#: → its creating change; raises ``RejectedError`` if the target refuses.
LinkedPlanner = Callable[[Handover, Actor, datetime, str], CaseChange]


class Planner:
    """Plans the changes of one workflow version's cases."""

    def __init__(
        self,
        wf: CompiledWorkflow,
        calendars: Mapping[str, WorkingCalendar],
        new_id: Callable[[], str],
        conditions: Mapping[str, ConditionFn],
        linked: LinkedPlanner,
        *,
        owner: str = "",
        lease: timedelta = timedelta(minutes=1),
    ) -> None:
        self.wf = wf
        self.new_id = new_id
        self.conditions = conditions
        self.deadlines = Deadlines(wf, calendars, new_id)
        self.calendar = calendars[wf.definition.calendar]
        self.on_call = tuple(wf.definition.on_call)
        self._linked = linked
        self.owner = owner
        self.lease = lease

    def _view(
        self, case_id: str, state: str, event: str, actor: Actor, fx: Effects,
        payload: Mapping[str, object], now: datetime,
    ) -> ViewFn:  # fmt: skip
        wid = self.wf.id
        return lambda: CaseView(
            case_id,
            wid,
            state,
            event,
            actor,
            fx.data,
            fx.counters,
            payload,  # type: ignore[arg-type]
            now,
        )

    def _person(self, data: Mapping[str, object], name: str | None) -> str | None:
        """The customer, owner or unit held in field ``name``, if any."""
        value = data.get(name) if name else None
        return value if isinstance(value, str) else None

    # ---------------------------------------------------------------- start
    def start(
        self,
        case_id: str,
        request: Request,
        now: datetime,
        *,
        linked_from: str = "",
        accepted_at: datetime | None = None,
    ) -> CaseChange:
        """The change that creates a case.

        ``accepted_at`` (earlier than ``now``): the case was accepted before it
        was started — converted from another — and counts its ``from: start``
        deadlines from then.

        Raises:
            RejectedError: a case it hands over to would refuse its data.
        """
        wf, actor = self.wf, request.actor
        counters = dict.fromkeys(wf.definition.counters, 0)
        fx = Effects(
            data=request.data, counters=counters, changes=dict(request.payload)
        )
        fx.counter_changes = dict(counters)
        accepted = now
        if accepted_at is not None and accepted_at < now:
            accepted = accepted_at
            fx.set({ACCEPTED_FIELD: accepted_at.isoformat()})
        view = self._view(case_id, "", "start", actor, fx, request.payload, now)
        ctx = ActionContext(case_id, "start", actor, now, self.new_id, view, accepted)
        apply_actions(wf.start.actions, fx, ctx)
        self._assign(request.step, fx, actor)
        linked = self._handovers(fx, ctx, strict=True)
        facts = StepFacts(case_id, None, wf.initial, "start", accepted, now)
        plan = self.deadlines.plan(
            facts, {}, {}, fx.changes, fx.data, fx.counters, view
        ) or TimerPlan(armed={}, ids={})
        if plan.data:
            fx.set(plan.data)
        self._notices(fx, now)
        case = Case(
            id=case_id,
            workflow_id=wf.id,
            workflow_version=wf.version,
            state=wf.initial,
            data=frozen(fx.data),
            counters=frozen(fx.counters),
            customer=self._person(fx.data, wf.customer_field),
            owner=self._person(fx.data, wf.owner_field),
            unit=self._person(fx.data, wf.unit_field),
            closed=wf.initial in wf.final,
            breaches=0,
            armed=frozen(plan.armed),
            timer_ids=frozen(plan.ids),
            version=1,
            created_at=now,
            updated_at=now,
        )
        detail = dict(plan.detail)
        if linked_from:
            detail["linked_from"] = linked_from
        entry = _entry(
            case, None, 1, now, "start", "start", actor, wf.initial, fx, detail
        )
        owner, until = self._lease(fx, linked, now)
        return CaseChange(
            case=case,
            expected_version=0,
            entries=(entry,),
            arm=tuple(plan.arm),
            outbox=tuple(fx.outbox),
            outbox_owner=owner,
            outbox_until=until,
            linked=linked,
        )

    # ---------------------------------------------------------------- event
    def event(self, case: Case, request: Request, now: datetime) -> CaseChange:
        """The change that a checked event makes to ``case``.

        Raises:
            RejectedError: a case it hands over to would refuse its data.
        """
        step, actor = request.step, request.actor
        fx = Effects(
            data=request.data,
            counters=dict(case.counters),
            changes=dict(request.payload),
        )
        view = self._view(
            case.id, case.state, step.event, actor, fx, request.payload, now
        )
        accepted = case.accepted_at
        ctx = ActionContext(
            case.id, step.event, actor, now, self.new_id, view, accepted
        )
        apply_actions(step.actions, fx, ctx)
        self._assign(step, fx, actor)
        if step.event in self.wf.anchor_events:
            fx.set({stamp_field(step.event): now.isoformat()})
        linked = self._handovers(fx, ctx, strict=True)
        dest = step.dest or case.state
        facts = StepFacts(case.id, case.state, dest, step.event, accepted, now)
        plan = self.deadlines.plan(
            facts, case.armed, case.timer_ids, fx.changes, fx.data, fx.counters, view
        )
        if plan is not None and plan.data:
            fx.set(plan.data)
        self._notices(fx, now)
        breaches = plan.breaches if plan is not None else 0
        return self._finish(case, now, "event", step.event, actor, dest, fx, plan,
                            linked=linked, breaches=breaches)  # fmt: skip

    # ---------------------------------------------------------------- timer
    def timer(
        self, case: Case, timer: Timer, now: datetime, worker: str = ""
    ) -> CaseChange:
        """The change a due timer makes: a warning, a breach, or a period's end.

        ``worker`` (the engine that fires it) is noted in the history entry.
        """
        d = self.wf.deadlines[timer.deadline]
        fx = Effects(data=dict(case.data), counters=dict(case.counters))
        plan = TimerPlan(armed=dict(case.armed), ids=dict(case.timer_ids))
        detail: dict[str, JSON] = {
            "timer": timer.id,
            "due_at": timer.due_at.isoformat(),
        }
        if worker:
            detail["worker"] = worker
        view = self._view(case.id, case.state, d.name, SYSTEM_ACTOR, fx, {}, now)
        ctx = ActionContext(
            case.id, d.name, SYSTEM_ACTOR, now, self.new_id, view, case.accepted_at
        )
        breaches = 0
        kind: HistoryKind
        ids = plan.ids.get(d.name, ())
        if timer.kind == "warn":
            kind = "warning"
            assert d.spec.warn is not None  # noqa: S101 - warn timers need a warning
            due = case.armed.get(d.name)
            detail["deadline_due_at"] = due.isoformat() if due else None
            if ids:
                plan.ids[d.name] = tuple(i for i in ids if i != timer.id)
            warn = d.spec.warn
            fx.notified = list(warn.notify)
            text = f"deadline {d.name!r}" + (
                f" ({d.spec.title})" if d.spec.title else ""
            )
            fx.outbox.append(
                notice_item(ctx, warn.notify, f"{text} is near", warn.at_any_hour)
            )
        elif timer.kind == "due":
            kind, breaches = "deadline", 1
            detail["outcome"] = "breached"
            plan.armed.pop(d.name, None)
            # Its warning, if it never fired, is moot now.
            plan.cancel.extend(i for i in plan.ids.pop(d.name, ()) if i != timer.id)
            apply_actions(d.on_due, fx, ctx)
        else:
            kind = "period"
            nxt, skipped = self.deadlines.next_period(d, timer, now)
            detail["period"] = timer.period
            detail["outcome"] = "met" if timer.met else "missed"
            if skipped:
                # The clock jumped (or no worker ran): the periods that ended
                # meanwhile saw no event, so each was missed — counted here,
                # told once.
                detail["missed_after"] = skipped
            plan.arm.append(nxt)
            plan.armed[d.name] = nxt.due_at
            plan.ids[d.name] = (nxt.id,)
            breaches = (0 if timer.met else 1) + skipped
            if breaches:
                apply_actions(d.on_due, fx, ctx)
        linked = self._handovers(fx, ctx, strict=False)
        self._notices(fx, now)
        return self._finish(
            case, now, kind, d.name, SYSTEM_ACTOR, case.state, fx, plan,
            breaches=breaches, detail=detail, fired_timer=timer.id, linked=linked,
        )  # fmt: skip

    # ----------------------------------------------------------- internals
    def _assign(self, step: CompiledStep, fx: Effects, actor: Actor) -> None:
        """A step's ``assign``: the owner and unit fields, after its actions."""
        if step.assign is None:
            return
        values: dict[str, Scalar] = {}
        for field_name, value in step.assign.gives:
            if value == ACTOR:
                values[field_name] = actor.id
            elif isinstance(value, tuple):
                found = fx.data.get(value[1])
                if isinstance(found, str) and not found.strip():
                    # Blank text names nobody: a case owned by " " would sit
                    # in no one's queue. Refused like any bad data.
                    raise InvalidDataError(
                        f"{value[1]}: names nobody (blank text) and would own the case",
                        field_errors={value[1]: "must name a person, not blank text"},
                    )
                values[field_name] = found if isinstance(found, str) else None
            else:
                values[field_name] = value  # type: ignore[assignment]
        fx.set(values)

    def _notices(self, fx: Effects, now: datetime) -> None:
        """Address the step's notices to people; hold them outside working hours."""
        if any(i.kind == "notify" for i in fx.outbox):
            fx.outbox = address(
                fx.outbox, now, self.calendar, self.on_call,
                owner=self._person(fx.data, self.wf.owner_field),
                unit=self._person(fx.data, self.wf.unit_field),
            )  # fmt: skip

    def _lease(
        self, fx: Effects, linked: tuple[CaseChange, ...], now: datetime
    ) -> tuple[str, datetime | None]:
        """Outbox items are written leased to this engine, which delivers them."""
        if fx.outbox or linked:
            return self.owner, now + self.lease
        return "", None

    def _handovers(
        self, fx: Effects, ctx: ActionContext, *, strict: bool
    ) -> tuple[CaseChange, ...]:
        """Plan the linked cases of a step, to be created in its transaction.

        A refusal refuses the step (``strict``); a deadline cannot be refused,
        so its hand-over is kept in the outbox instead, stuck and retried.
        """
        out: list[CaseChange] = []
        for h in fx.handovers:
            try:
                linked = self._linked(h, ctx.actor, ctx.now, ctx.case_id)
            except RejectedError as exc:
                if strict:
                    raise _handover_refused(h, exc) from exc
                fx.outbox.append(handover_item(ctx, h, str(exc)))
                continue
            out.append(linked)
            if h.back_link:
                fx.set({h.back_link: linked.case.id})
        return tuple(out)

    def _finish(
        self,
        case: Case,
        now: datetime,
        kind: HistoryKind,
        event: str,
        actor: Actor,
        dest: str,
        fx: Effects,
        plan: TimerPlan | None,
        *,
        breaches: int = 0,
        detail: dict[str, JSON] | None = None,
        fired_timer: str = "",
        linked: tuple[CaseChange, ...] = (),
    ) -> CaseChange:
        if plan is None:  # no deadline moves: keep the case's as they are
            full = detail or {}
            armed, ids = case.armed, case.timer_ids
            cancel: tuple[str, ...] = ()
            meet: tuple[str, ...] = ()
            arm: tuple[Timer, ...] = ()
        else:
            full = {**detail, **plan.detail} if detail else plan.detail
            armed, ids = frozen(plan.armed), frozen(plan.ids)
            cancel, meet, arm = tuple(plan.cancel), tuple(plan.meet), tuple(plan.arm)
        entry = _entry(case, case.state, case.version + 1, now, kind, event, actor, dest,
                       fx, full)  # fmt: skip
        wf, data = self.wf, fx.data
        new = new_case(  # positional, in Case's field order: the hot path
            case.id, case.workflow_id, case.workflow_version, dest, frozen(data),
            frozen(fx.counters), self._person(data, wf.customer_field),
            self._person(data, wf.owner_field), self._person(data, wf.unit_field),
            dest in wf.final, case.breaches + breaches, armed, ids, case.version + 1,
            case.created_at, now,
        )  # fmt: skip
        owner, until = self._lease(fx, linked, now)
        change = new_change(  # in CaseChange's field order
            new, case.version, (entry,), case, cancel, meet, arm, fired_timer,
            tuple(fx.outbox), owner, until, linked,
        )  # fmt: skip
        for ev in fx.fire:
            change = chain(change, self._system_fire(change.case, ev, now))
        return change

    def _system_fire(self, case: Case, event: str, now: datetime) -> CaseChange | str:
        try:
            request = check_event(
                self.wf, case, event, SYSTEM_ACTOR, {}, self.conditions, now
            )
            return self.event(case, request, now)
        except RejectedError as exc:
            return str(exc)


def _entry(
    case: Case,
    from_state: str | None,
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
        detail = {**detail, "notified": list(fx.notified)}
    return new_entry(  # in HistoryEntry's field order
        case.id, seq, now, kind, event, actor.id, _roles(actor), from_state, to_state,
        fx.changes, fx.counter_changes, detail,
    )  # fmt: skip


@lru_cache(maxsize=1024)  # the same actors come back step after step
def _roles(actor: Actor) -> tuple[str, ...]:
    return tuple(sorted(actor.roles))


def _handover_refused(h: Handover, exc: RejectedError) -> RejectedError:
    text = f"the hand-over to a new {h.workflow_id!r} case would be refused: {exc}"
    if isinstance(exc, InvalidDataError):
        return InvalidDataError(text, field_errors=exc.field_errors)
    return RejectedError(text)
