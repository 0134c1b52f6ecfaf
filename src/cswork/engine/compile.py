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
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from transitions import Machine

from cswork.definition.conditions import Condition, render
from cswork.definition.durations import Duration, parse_duration
from cswork.definition.model import Action, Deadline, Workflow
from cswork.engine.guards import (
    Predicate,
    Validator,
    compile_condition,
    validator_for,
)
from cswork.engine.hooks import ConditionFn


@dataclass(frozen=True, slots=True)
class CompiledAction:
    """An action with its condition compiled."""

    action: Action
    when: Predicate | None


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


@dataclass(frozen=True, slots=True)
class CompiledDeadline:
    """A deadline with its scope, timing and actions ready to use."""

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
        self.start = self._compile_step(
            -1, "start", (), self.initial, wf.start.roles, wf.start.requires,
            wf.start.optional, None, wf.start.actions, (),
        )  # fmt: skip
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

    # ------------------------------------------------------------ building
    def predicate(self, cond: Condition | None) -> Predicate | None:
        """Compile an optional condition."""
        if cond is None:
            return None
        return compile_condition(cond, self.definition.fields, self._conditions)

    def _actions(self, actions: list[Action]) -> tuple[CompiledAction, ...]:
        return tuple(CompiledAction(a, self.predicate(a.when)) for a in actions)

    def _transition(self, i: int) -> CompiledStep:
        t = self.definition.transitions[i]
        return self._compile_step(
            i, t.event, t.from_, t.to, t.roles, t.requires, t.optional, t.when,
            t.actions, t.tags,
        )  # fmt: skip

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
