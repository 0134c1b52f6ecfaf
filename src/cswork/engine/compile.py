"""A workflow definition compiled for running, once per (workflow id, version).

The hot path uses a dispatch table — (state, event) → the candidate steps in
file order, with their checks compiled to closures — so choosing a step costs
a dictionary lookup and the checks themselves. ``transitions`` remains the
reference definition of what a workflow allows: ``reference_machine`` builds
one shared ``Machine`` per workflow (``model=None``, as research/deps.md §2
recommends) and ``reference_choice`` asks it which step an event takes; a test
proves it chooses what the dispatch table chooses for every state, event and
data shape of every shipped SOP. This is the only module that imports
``transitions``.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from functools import cached_property
from typing import Any

from transitions import Machine

from cswork.definition.conditions import Condition, render
from cswork.definition.model import (
    Action,
    Assign,
    Deadline,
    FromEvent,
    FromField,
    SetData,
    Workflow,
)
from cswork.durations import Duration, parse_duration
from cswork.engine.guards import (
    Predicate,
    Validator,
    compile_condition,
    to_utc_text,
    validator_for,
)
from cswork.engine.hooks import ConditionFn
from cswork.records import Scalar


@dataclass(frozen=True, slots=True)
class CompiledAction:
    """An action with its condition compiled (and a ``set``'s values normalised)."""

    action: Action
    when: Predicate | None
    values: Mapping[str, Scalar] | None = None


@dataclass(frozen=True, slots=True)
class Assignment:
    """What a step's ``assign`` does: (field, value) pairs, in order.

    A value is ``ACTOR`` (the acting person's id), ``("field", NAME)`` (the
    value of a field after the step's actions), a literal unit id, or None.
    """

    gives: tuple[tuple[str, object], ...]


ACTOR = "\x00actor"


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """What the engine needs to check and apply one transition (or the start).

    Attributes:
        index: the transition's position in the file (-1 for the start).
        event: the event that fires it.
        sources: the states it may be fired from (``*`` expanded).
        dest: the state it leads to (None: it stays).
        roles: roles allowed to take it.
        requires: fields that must be given.
        allowed: fields that may be given.
        when: its condition, compiled; ``when_cond`` the condition itself and
            ``when_text`` as written.
        actions: its actions, compiled.
        tags: its report tags.
        only: ``owner`` or ``unit`` when only those may take it, else None.
        requires_when: fields required when their condition holds.
        assign: its ``assign``, or None.
    """

    index: int
    event: str
    sources: frozenset[str]
    dest: str | None
    roles: frozenset[str]
    requires: tuple[str, ...]
    allowed: frozenset[str]
    when: Predicate | None
    when_cond: Condition | None
    when_text: str
    actions: tuple[CompiledAction, ...]
    tags: tuple[str, ...]
    only: str | None = None
    requires_when: tuple[tuple[str, Predicate, str], ...] = ()
    assign: Assignment | None = None


@dataclass(frozen=True, slots=True)
class CompiledDeadline:
    """A deadline with its scope, timing and actions ready to use.

    Attributes:
        anchor: what the count starts from: ``scope``, ``start``,
            ``event:NAME`` or ``field:NAME``.
        off_hours: the timing used when the count starts outside working
            time, and its basis (or None).
        not_before: a window's opening, after the start of the count.
        offset: an ``at`` deadline's shift, and its basis.
    """

    name: str
    position: int
    spec: Deadline
    scope: frozenset[str]
    when: Predicate | None
    after: Duration | None
    every: Duration | None
    warn_before: Duration | None
    met_by: frozenset[str]
    on_due: tuple[CompiledAction, ...]
    anchor: str = "scope"
    off_hours: tuple[Duration, str] | None = None
    not_before: Duration | None = None
    offset: Duration | None = None
    met_in: frozenset[str] = frozenset()


def canonical_json(wf: Workflow) -> str:
    """The definition as canonical JSON (what stores keep and digest)."""
    return json.dumps(
        wf.model_dump(mode="json", by_alias=True),
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


class CompiledWorkflow:
    """One workflow version, ready to run. Built once, shared by all cases."""

    def __init__(self, wf: Workflow, conditions: Mapping[str, ConditionFn]) -> None:
        self.definition = wf
        self.id = wf.workflow
        self.version = wf.version
        self.source = canonical_json(wf)
        self.digest = hashlib.sha256(self.source.encode()).hexdigest()
        self.initial = wf.initial_state()
        self.final = frozenset(n for n, s in wf.states.items() if s.final)
        self.non_final = tuple(n for n in wf.states if n not in self.final)
        self.customer_field = wf.customer_field
        self.owner_field, self.unit_field = wf.people_fields()
        self.validators: dict[str, Validator] = {
            name: validator_for(spec) for name, spec in wf.fields.items()
        }
        self._conditions = conditions
        start = wf.start
        self.start = self._compile_step(
            -1, "start", (), self.initial, start.roles, start.requires,
            start.optional, start.when, start.actions, (),
        )  # fmt: skip
        self.start = replace(
            self.start,
            # A field that may be required may be given (whether or not listed
            # under optional as well).
            allowed=self.start.allowed | frozenset(start.requires_when),
            requires_when=self._requires_when(start.requires_when),
            assign=_assignment(start.assign, self.owner_field, self.unit_field),
        )
        self.steps = tuple(self._transition(i) for i in range(len(wf.transitions)))
        self.dispatch: dict[str, dict[str, tuple[CompiledStep, ...]]] = {
            s: {} for s in wf.states
        }
        for step in self.steps:
            for src in step.sources:
                by_event = self.dispatch[src]
                by_event[step.event] = (*by_event.get(step.event, ()), step)
        self.deadlines = {
            n: self._deadline(i, n, d) for i, (n, d) in enumerate(wf.deadlines.items())
        }
        #: Events that meet a window deadline that refuses early steps.
        self.windows: dict[str, tuple[CompiledDeadline, ...]] = {}
        for d in self.deadlines.values():
            if d.not_before is not None and d.spec.early == "refuse":
                for ev in d.met_by:
                    self.windows[ev] = (*self.windows.get(ev, ()), d)
        #: Events some deadline counts from: the engine notes when they happen.
        self.anchor_events = frozenset(
            d.anchor.removeprefix("event:")
            for d in self.deadlines.values()
            if d.anchor.startswith("event:")
        )

    # ------------------------------------------------------------ building
    def predicate(self, cond: Condition | None) -> Predicate | None:
        """Compile an optional condition."""
        if cond is None:
            return None
        wf = self.definition
        return compile_condition(cond, wf.fields, self._conditions, wf.counters)

    def _actions(self, actions: list[Action]) -> tuple[CompiledAction, ...]:
        return tuple(
            CompiledAction(a, self.predicate(a.when), self._set_values(a))
            for a in actions
        )

    def _set_values(self, action: Action) -> Mapping[str, Scalar] | None:
        """A ``set`` action's values as a step would store them (datetimes in UTC)."""
        if not isinstance(action, SetData):
            return None
        fields = self.definition.fields
        return {
            name: to_utc_text(v)
            if isinstance(v, str) and name in fields and fields[name].type == "datetime"
            else v
            for name, v in action.set.items()
        }

    def _transition(self, i: int) -> CompiledStep:
        t = self.definition.transitions[i]
        step = self._compile_step(
            i, t.event, t.from_, t.to, t.roles, t.requires, t.optional, t.when,
            t.actions, t.tags,
        )  # fmt: skip
        return replace(
            step,
            only=t.only,
            allowed=step.allowed | frozenset(t.requires_when),
            requires_when=self._requires_when(t.requires_when),
            assign=_assignment(t.assign, self.owner_field, self.unit_field),
        )

    def _requires_when(
        self, given: Mapping[str, Condition]
    ) -> tuple[tuple[str, Predicate, str], ...]:
        out = []
        for name, cond in given.items():
            pred = self.predicate(cond)
            assert pred is not None  # noqa: S101 - a condition compiles
            out.append((name, pred, render(cond)))
        return tuple(out)

    def _compile_step(
        self,
        index: int,
        event: str,
        sources: list[str] | tuple[str, ...],
        dest: str | None,
        roles: list[str],
        requires: list[str],
        optional: list[str],
        when: Condition | None,
        actions: list[Action],
        tags: list[str] | tuple[str, ...],
    ) -> CompiledStep:
        return CompiledStep(
            index=index,
            event=event,
            sources=frozenset(self.non_final if "*" in sources else sources),
            dest=dest,
            roles=frozenset(roles),
            requires=tuple(requires),
            allowed=frozenset(requires) | frozenset(optional),
            when=self.predicate(when),
            when_cond=when,
            when_text=render(when) if when is not None else "",
            actions=self._actions(actions),
            tags=tuple(tags),
        )

    def _deadline(self, position: int, name: str, d: Deadline) -> CompiledDeadline:
        anchor = d.from_
        if isinstance(anchor, FromEvent):
            anchor_text = f"event:{anchor.event}"
        elif isinstance(anchor, FromField):
            anchor_text = f"field:{anchor.field}"
        else:
            anchor_text = anchor
        return CompiledDeadline(
            name=name,
            position=position,
            spec=d,
            scope=frozenset(d.scope),
            when=self.predicate(d.when),
            after=parse_duration(d.after) if d.after else None,
            every=parse_duration(d.every) if d.every else None,
            warn_before=(
                parse_duration(d.warn.before) if d.warn and d.warn.before else None
            ),
            met_by=frozenset(d.met_by),
            on_due=self._actions(d.on_due),
            anchor=anchor_text,
            off_hours=(
                (parse_duration(d.off_hours.after), d.off_hours.basis)
                if d.off_hours
                else None
            ),
            not_before=parse_duration(d.not_before) if d.not_before else None,
            offset=parse_duration(d.offset, signed=True) if d.offset else None,
            met_in=frozenset(d.met_in),
        )

    # ------------------------------------------------------------- queries
    def candidates(self, state: str, event: str) -> tuple[CompiledStep, ...]:
        """The steps ``event`` may take from ``state``, in file order."""
        return self.dispatch.get(state, {}).get(event, ())

    def allowed_events(
        self, state: str, roles: frozenset[str] | None = None
    ) -> list[str]:
        """Events declared from ``state`` (for which one of ``roles`` is allowed)."""
        return sorted(
            event
            for event, steps in self.dispatch.get(state, {}).items()
            if roles is None or any(roles & s.roles for s in steps)
        )

    # ---------------------------------------------------------- reference
    @cached_property
    def reference_machine(self) -> Machine:
        """The workflow as a ``transitions.Machine`` (the reference semantics)."""
        machine = Machine(
            model=None,
            states=list(self.definition.states),
            initial=None,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        for step in self.steps:
            machine.add_transition(
                trigger=step.event,
                source=list[Any](sorted(step.sources)),
                dest=step.dest,  # None: an internal transition, the state stays
                conditions=[_reference_guard(step)],
            )
        return machine

    def reference_choice(
        self, state: str, event: str, passes: Callable[[CompiledStep], bool]
    ) -> CompiledStep | None:
        """The step ``transitions`` takes for ``event`` from ``state``.

        ``passes(step)`` says whether a step's checks pass; the machine calls
        it as its guard, in its own order. None: no step passes (or the event
        is not declared from the state).
        """
        trigger = self.reference_machine.events.get(event)
        if trigger is None or state not in trigger.transitions:
            return None
        model = _Model(state, passes)
        trigger.trigger(model)
        return model.chosen


class _Model:
    __slots__ = ("chosen", "passes", "state")

    def __init__(self, state: str, passes: Callable[[CompiledStep], bool]) -> None:
        self.state = state
        self.passes = passes
        self.chosen: CompiledStep | None = None


def _reference_guard(step: CompiledStep) -> Callable[[Any], bool]:
    def guard(event_data: Any) -> bool:
        model: _Model = event_data.model
        if model.chosen is None and model.passes(step):
            model.chosen = step
            return True
        return False

    return guard


def _assignment(
    assign: Assign | None, owner: str | None, unit: str | None
) -> Assignment | None:
    """A step's ``assign`` as (field, value) pairs for the planner."""
    if assign is None:
        return None
    gives: list[tuple[str, object]] = []
    for key, value in assign.gives():
        field = owner if key == "owner" else unit
        if field is None:
            continue  # the checks refuse this; nothing to do
        if value == "actor":
            gives.append((field, ACTOR))
        elif isinstance(value, FromField):
            gives.append((field, ("field", value.field)))
        else:
            gives.append((field, value))
    return Assignment(tuple(gives))


def opens_field(deadline: str) -> str:
    """The case data field that holds when a window deadline opens."""
    return f"_opens_{deadline}"


def stamp_field(event: str) -> str:
    """The case data field that holds when an event last happened."""
    return f"_at_{event}"
