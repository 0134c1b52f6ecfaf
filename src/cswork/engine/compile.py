"""A workflow definition compiled for running: one shared ``transitions`` Machine.

This is the only module that imports ``transitions``. Each (workflow id,
version) gets one ``Machine`` built with ``model=None``; cases are never added
to it. To fire an event we hand the machine a short-lived ``_Step`` object
that carries the case's state, and the machine runs its guards on it and sets
its new state (see research/deps.md §2: ``add_model`` is quadratic).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from transitions import Machine

from cswork.definition.conditions import render
from cswork.definition.durations import Duration, parse_duration
from cswork.definition.model import Action, Deadline, Workflow
from cswork.engine.guards import (
    Predicate,
    Validator,
    ViewFn,
    compile_condition,
    validate_payload,
    validator_for,
)
from cswork.engine.hooks import CaseView, ConditionFn
from cswork.errors import (
    ConditionNotMetError,
    IllegalEventError,
    InvalidDataError,
    PermissionDeniedError,
    RejectedError,
)
from cswork.records import Actor, Scalar


@dataclass(frozen=True, slots=True)
class CompiledAction:
    """An action with its condition compiled."""

    action: Action
    when: Predicate | None


@dataclass(frozen=True, slots=True)
class CompiledStep:
    """What the engine needs to check and apply one transition (or the start)."""

    index: int
    event: str
    dest: str | None
    roles: frozenset[str]
    requires: tuple[str, ...]
    allowed: frozenset[str]
    when: Predicate | None
    when_text: str
    actions: tuple[CompiledAction, ...]
    tags: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CompiledDeadline:
    """A deadline with its scope, timing and actions ready to use."""

    name: str
    spec: Deadline
    scope: frozenset[str]
    when: Predicate | None
    after: Duration | None
    every: Duration | None
    warn_before: Duration | None
    met_by: frozenset[str]
    on_due: tuple[CompiledAction, ...]


@dataclass
class Selection:
    """The transition chosen for an event, with the data it accepted."""

    step: CompiledStep
    payload: dict[str, Scalar]
    data: dict[str, Scalar]


class _Step:
    """The short-lived model object the shared Machine works on."""

    __slots__ = (
        "actor",
        "chosen",
        "clean",
        "counters",
        "data",
        "failures",
        "merged",
        "payload",
        "state",
        "view",
    )

    def __init__(
        self,
        state: str,
        actor: Actor,
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        payload: Mapping[str, Any],
        view: ViewFn,
    ) -> None:
        self.state = state
        self.actor = actor
        self.data = data
        self.counters = counters
        self.payload = payload
        self.view = view
        self.failures: list[tuple[str, CompiledStep, Any]] = []
        self.chosen: CompiledStep | None = None
        self.clean: dict[str, Scalar] = {}
        self.merged: dict[str, Scalar] = {}


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
        self.validators: dict[str, Validator] = {
            name: validator_for(spec) for name, spec in wf.fields.items()
        }
        self._conditions = conditions
        start = wf.start
        self.start = CompiledStep(
            index=-1,
            event="start",
            dest=self.initial,
            roles=frozenset(start.roles),
            requires=tuple(start.requires),
            allowed=frozenset(start.requires) | frozenset(start.optional),
            when=None,
            when_text="",
            actions=self._actions(start.actions),
            tags=(),
        )
        self.steps = [self._step(i) for i in range(len(wf.transitions))]
        self.deadlines = {n: self._deadline(n, d) for n, d in wf.deadlines.items()}
        self.machine = self._machine()
        self.by_state: dict[str, list[CompiledStep]] = {s: [] for s in wf.states}
        non_final = [s for s in wf.states if s not in self.final]
        for step, t in zip(self.steps, wf.transitions, strict=True):
            for src in non_final if "*" in t.from_ else t.from_:
                self.by_state[src].append(step)

    # ------------------------------------------------------------ building
    def predicate(self, cond: Any) -> Predicate | None:
        """Compile an optional condition."""
        if cond is None:
            return None
        return compile_condition(cond, self.definition.fields, self._conditions)

    def _actions(self, actions: list[Action]) -> tuple[CompiledAction, ...]:
        return tuple(CompiledAction(a, self.predicate(a.when)) for a in actions)

    def _step(self, i: int) -> CompiledStep:
        t = self.definition.transitions[i]
        return CompiledStep(
            index=i,
            event=t.event,
            dest=t.to,
            roles=frozenset(t.roles),
            requires=tuple(t.requires),
            allowed=frozenset(t.requires) | frozenset(t.optional),
            when=self.predicate(t.when),
            when_text=render(t.when) if t.when is not None else "",
            actions=self._actions(t.actions),
            tags=tuple(t.tags),
        )

    def _deadline(self, name: str, d: Deadline) -> CompiledDeadline:
        return CompiledDeadline(
            name=name,
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

    def _machine(self) -> Machine:
        wf = self.definition
        machine = Machine(
            model=None,
            states=list(wf.states),
            initial=None,
            auto_transitions=False,
            send_event=True,
            ignore_invalid_triggers=False,
        )
        non_final = [s for s in wf.states if s not in self.final]
        for step, t in zip(self.steps, wf.transitions, strict=True):
            sources = non_final if "*" in t.from_ else t.from_
            machine.add_transition(
                trigger=t.event,
                source=list(sources),
                dest=t.to,  # None: an internal transition, the state stays
                conditions=[self._guard(step)],
            )
        return machine

    def _guard(self, step: CompiledStep) -> Callable[[Any], bool]:
        validators = self.validators

        def guard(event_data: Any) -> bool:
            s: _Step = event_data.model
            if not (s.actor.roles & step.roles):
                s.failures.append(("role", step, None))
                return False
            clean, errors = validate_payload(
                s.payload, validators, step.requires, step.allowed
            )
            if errors:
                s.failures.append(("data", step, errors))
                return False
            merged = {**s.data, **clean}
            if step.when is not None and not step.when(merged, s.counters, s.view):
                s.failures.append(("condition", step, None))
                return False
            s.chosen, s.clean, s.merged = step, clean, merged
            return True

        return guard

    # ------------------------------------------------------------- running
    def allowed_events(self, state: str, actor: Actor | None = None) -> list[str]:
        """Events declared from ``state`` (that ``actor`` has a role for)."""
        return sorted(
            {
                s.event
                for s in self.by_state.get(state, ())
                if actor is None or actor.roles & s.roles
            }
        )

    def select(
        self,
        *,
        case_id: str,
        state: str,
        event: str,
        actor: Actor,
        data: Mapping[str, Scalar],
        counters: Mapping[str, int],
        payload: Mapping[str, Any],
    ) -> Selection:
        """Choose the transition ``event`` takes from ``state``, checking everything.

        Transitions for the same event are tried in file order; the first whose
        roles, data and condition all pass is chosen.

        Raises:
            IllegalEventError, PermissionDeniedError, InvalidDataError,
            ConditionNotMetError: nothing is chosen.
        """

        def view() -> CaseView:
            return CaseView(
                case_id=case_id,
                workflow_id=self.id,
                state=state,
                event=event,
                actor=actor,
                data={**data, **s.clean},
                counters=counters,
                payload=s.clean,
            )

        s = _Step(state, actor, data, counters, payload, view)
        trigger = self.machine.events.get(event)
        if trigger is None or state not in trigger.transitions:
            raise IllegalEventError(
                f"event {event!r} is not allowed in state {state!r}",
                case_id=case_id,
                event=event,
                state=state,
                allowed=self.allowed_events(state, actor),
            )
        # Guards may raise (a registered condition); the Machine then leaves
        # the state alone and nothing has been written yet.
        trigger.trigger(s)
        if s.chosen is None:
            raise self._refusal(s, case_id, event, state, actor)
        return Selection(s.chosen, s.clean, s.merged)

    def check_start(
        self, actor: Actor, payload: Mapping[str, Any], view: ViewFn
    ) -> Selection:
        """Check a start the way ``select`` checks an event."""
        step = self.start
        if not actor.roles & step.roles:
            raise PermissionDeniedError(
                f"{actor.id!r} may not start a {self.id!r} case",
                actor_id=actor.id,
                required_roles=step.roles,
                event="start",
            )
        clean, errors = validate_payload(
            payload, self.validators, step.requires, step.allowed
        )
        if errors:
            raise InvalidDataError(
                _data_message(errors), field_errors=errors, event="start"
            )
        return Selection(step, clean, dict(clean))

    def _refusal(
        self, s: _Step, case_id: str, event: str, state: str, actor: Actor
    ) -> RejectedError:
        common: dict[str, Any] = {
            "case_id": case_id,
            "event": event,
            "state": state,
            "allowed": self.allowed_events(state, actor),
        }
        past_roles = [f for f in s.failures if f[0] != "role"]
        if not past_roles:
            roles = set().union(*(f[1].roles for f in s.failures))
            return PermissionDeniedError(
                f"{actor.id!r} (roles: {', '.join(sorted(actor.roles)) or 'none'}) "
                f"may not fire {event!r}; it needs one of: {', '.join(sorted(roles))}",
                actor_id=actor.id,
                required_roles=roles,
                **common,
            )
        kind, step, errors = past_roles[0]
        if kind == "data":
            return InvalidDataError(
                _data_message(errors), field_errors=errors, **common
            )
        return ConditionNotMetError(
            f"{event!r} needs {step.when_text} (case {case_id!r})",
            condition=step.when_text,
            **common,
        )


def _data_message(errors: Mapping[str, str]) -> str:
    return "invalid data: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
