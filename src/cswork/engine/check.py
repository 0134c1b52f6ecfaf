"""The check stage: is this step allowed, for this actor, with this data?

One stage for ``start`` and ``fire`` alike. It reads nothing and writes
nothing: the case, the actor and the data go in; a frozen ``Request`` (the
chosen step and its validated data) comes out, or a ``RejectedError`` that
says why — for each alternative when several transitions share the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cswork.engine.compile import CompiledStep, CompiledWorkflow, opens_field
from cswork.engine.guards import ViewFn, explain_condition, validate_payload
from cswork.engine.hooks import CaseView, ConditionFn
from cswork.errors import (
    ConditionNotMetError,
    IllegalEventError,
    InvalidDataError,
    PermissionDeniedError,
    RejectedError,
)
from cswork.records import Actor, Case, Scalar


@dataclass(frozen=True, slots=True)
class Request:
    """A step that passed every check, ready to be planned.

    Attributes:
        step: the transition chosen (or the workflow's start).
        actor: who takes it.
        payload: the data given with the step, validated and normalised.
        data: the case's data merged with ``payload`` (a fresh dict the
            planner may keep).
    """

    step: CompiledStep
    actor: Actor
    payload: Mapping[str, Scalar]
    data: dict[str, Scalar]


@dataclass(frozen=True, slots=True)
class _Failure:
    step: CompiledStep
    kind: str  # role | owner | unit | data | condition
    errors: Mapping[str, str]
    reasons: tuple[str, ...]


def check_start(
    wf: CompiledWorkflow,
    actor: Actor,
    payload: Mapping[str, Any],
    now: datetime,
    conditions: Mapping[str, ConditionFn],
    *,
    check_roles: bool = True,
) -> Request:
    """Check the start of a case of ``wf``.

    Args:
        wf: the workflow version.
        actor: who starts it.
        payload: the data it starts with.
        now: the time of the step.
        conditions: the registered named conditions.
        check_roles: False for a case another case hands over to (the
            hand-over declared in the SOP is the permission).

    Raises:
        PermissionDeniedError, InvalidDataError, ConditionNotMetError: refused.
    """
    step = wf.start
    if check_roles and not actor.roles & step.roles:
        raise PermissionDeniedError(
            f"{_who(actor)} may not start a {wf.id!r} case; "
            f"it needs one of: {', '.join(sorted(step.roles))}",
            actor_id=actor.id,
            required_roles=step.roles,
            event="start",
        )
    clean, errors = validate_payload(
        payload, wf.validators, step.requires, step.allowed
    )
    counters = dict.fromkeys(wf.definition.counters, 0)
    view = _start_view(wf, actor, clean, counters, now)
    if not errors:
        errors = _required_when(step, clean, clean, counters, view)
    if errors:
        raise InvalidDataError(_data_text(errors), field_errors=errors, event="start")
    cond = step.when_cond
    if (
        step.when is not None
        and cond is not None
        and not step.when(clean, counters, view)
    ):
        why = explain_condition(
            cond, clean, counters, view, wf.definition.fields, conditions
        )
        raise ConditionNotMetError(
            f"a {wf.id!r} case needs {step.when_text} to start; false: "
            + "; ".join(why),
            condition=step.when_text,
            event="start",
        )
    return Request(step, actor, clean, dict(clean))


def check_event(
    wf: CompiledWorkflow,
    case: Case,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
    conditions: Mapping[str, ConditionFn],
    now: datetime,
) -> Request:
    """Choose the step ``event`` takes on ``case``, checking everything.

    Transitions for the same event are tried in file order; the first whose
    roles, data and condition all pass is chosen. Conditions see the case
    data merged with the step's data, and the counters before the step.

    Raises:
        IllegalEventError, PermissionDeniedError, InvalidDataError,
        ConditionNotMetError: nothing is chosen.
    """
    candidates = wf.candidates(case.state, event)
    if not candidates:
        raise IllegalEventError(
            f"event {event!r} is not allowed in state {case.state!r}",
            case_id=case.id,
            event=event,
            state=case.state,
            allowed=wf.allowed_events(case.state, actor.roles),
        )
    failures: list[_Failure] = []
    for step in candidates:
        if not actor.roles & step.roles:
            failures.append(_Failure(step, "role", {}, ()))
            continue
        if step.only is not None and not _is_one_of(step.only, case, actor):
            failures.append(_Failure(step, step.only, {}, ()))
            continue
        clean, errors = validate_payload(
            payload, wf.validators, step.requires, step.allowed
        )
        if errors:
            failures.append(_Failure(step, "data", errors, ()))
            continue
        merged = {**case.data, **clean}
        view = _view(wf, case, event, actor, merged, clean, now)
        errors = _required_when(step, clean, merged, case.counters, view)
        if errors:
            failures.append(_Failure(step, "data", errors, ()))
            continue
        cond = step.when_cond
        if (
            step.when is not None
            and cond is not None
            and not step.when(merged, case.counters, view)
        ):
            why = explain_condition(
                cond, merged, case.counters, view, wf.definition.fields, conditions
            )
            failures.append(_Failure(step, "condition", {}, tuple(why)))
            continue
        _window_open(wf, case, event, now)
        return Request(step, actor, clean, merged)
    raise _refusal(wf, case, event, actor, failures)


def may_take(step: CompiledStep, case: Case, actor: Actor) -> bool:
    """Does ``actor`` hold a role of ``step`` and meet its ``only`` (owner, unit)?

    What a person may be offered; the step's data and conditions are checked
    when it is taken.
    """
    if not actor.roles & step.roles:
        return False
    return step.only is None or _is_one_of(step.only, case, actor)


def _is_one_of(only: str, case: Case, actor: Actor) -> bool:
    if only == "owner":
        return case.owner is not None and case.owner == actor.id
    return case.unit is not None and case.unit in actor.units


def _required_when(
    step: CompiledStep,
    clean: Mapping[str, Scalar],
    merged: Mapping[str, Scalar],
    counters: Mapping[str, int],
    view: ViewFn,
) -> dict[str, str]:
    """Fields the step requires because their condition holds, but lacks."""
    return {
        name: f"required when {text}"
        for name, pred, text in step.requires_when
        if clean.get(name) is None and pred(merged, counters, view)
    }


def _window_open(wf: CompiledWorkflow, case: Case, event: str, now: datetime) -> None:
    """Refuse a step that would meet a window deadline before its window opens."""
    for d in wf.windows.get(event, ()):
        opens = case.data.get(opens_field(d.name))
        if d.name in case.armed and isinstance(opens, str):
            when = datetime.fromisoformat(opens)
            if now < when:
                raise ConditionNotMetError(
                    f"{event!r} is too early for deadline {d.name!r}: its window "
                    f"opens at {when.isoformat()}",
                    condition=f"not before {d.spec.not_before}",
                    case_id=case.id,
                    event=event,
                    state=case.state,
                    allowed=wf.allowed_events(case.state),
                )


def passes(
    wf: CompiledWorkflow,
    step: CompiledStep,
    case: Case,
    actor: Actor,
    payload: Mapping[str, Any],
) -> bool:
    """Whether ``step`` alone would accept the event (for the reference check)."""
    if not actor.roles & step.roles:
        return False
    if step.only is not None and not _is_one_of(step.only, case, actor):
        return False
    clean, errors = validate_payload(
        payload, wf.validators, step.requires, step.allowed
    )
    if errors:
        return False
    merged = {**case.data, **clean}
    view = _view(wf, case, step.event, actor, merged, clean, case.updated_at)
    if _required_when(step, clean, merged, case.counters, view):
        return False
    return step.when is None or step.when(merged, case.counters, view)


def _view(
    wf: CompiledWorkflow,
    case: Case,
    event: str,
    actor: Actor,
    merged: Mapping[str, Scalar],
    clean: Mapping[str, Scalar],
    now: datetime,
) -> ViewFn:
    return lambda: CaseView(
        case_id=case.id,
        workflow_id=wf.id,
        state=case.state,
        event=event,
        actor=actor,
        data=merged,
        counters=case.counters,
        payload=clean,
        now=now,
    )


def _start_view(
    wf: CompiledWorkflow,
    actor: Actor,
    clean: Mapping[str, Scalar],
    counters: Mapping[str, int],
    now: datetime,
) -> ViewFn:
    return lambda: CaseView("", wf.id, "", "start", actor, clean, counters, clean, now)


def _refusal(
    wf: CompiledWorkflow,
    case: Case,
    event: str,
    actor: Actor,
    failures: list[_Failure],
) -> RejectedError:
    common: dict[str, Any] = {
        "case_id": case.id,
        "event": event,
        "state": case.state,
        "allowed": wf.allowed_events(case.state, actor.roles),
    }
    beyond_roles = [f for f in failures if f.kind in ("data", "condition")]
    if not beyond_roles:
        roles = set().union(*(f.step.roles for f in failures))
        who = [_reason(f, actor, case) for f in failures if f.kind in ("owner", "unit")]
        needs = f"it needs one of: {', '.join(sorted(roles))}"
        return PermissionDeniedError(
            f"{_who(actor)} may not fire {event!r} in state {case.state!r}; "
            + ("; ".join(who) if who else needs),
            actor_id=actor.id,
            required_roles=roles,
            **common,
        )
    if len(failures) == 1:
        text = _reason(failures[0])
    else:
        lines = [
            f"  {i}. {_label(f.step, case.state)}: {_reason(f, actor, case)}"
            for i, f in enumerate(failures, start=1)
        ]
        text = f"no alternative of {event!r} applies:\n" + "\n".join(lines)
    first = beyond_roles[0]
    message = f"{event!r} refused on case {case.id!r}: {text}"
    if first.kind == "data":
        return InvalidDataError(message, field_errors=first.errors, **common)
    return ConditionNotMetError(message, condition=first.step.when_text, **common)


def _label(step: CompiledStep, state: str) -> str:
    return f"{step.event} → {step.dest or state}"


def _reason(f: _Failure, actor: Actor | None = None, case: Case | None = None) -> str:
    if f.kind == "role":
        who = _who(actor) if actor is not None else "the actor"
        return f"{who} lacks a role ({', '.join(sorted(f.step.roles))})"
    if f.kind == "owner":
        owner = case.owner if case is not None else None
        if owner is None:
            return "only the case's owner may, and it has none yet: assign it first"
        return f"only the case's owner may: {owner!r}"
    if f.kind == "unit":
        unit = case.unit if case is not None else None
        return (
            f"only members of the case's unit may: {unit!r}"
            if unit is not None
            else "only members of the case's unit may, and it has none yet"
        )
    if f.kind == "data":
        return _data_text(f.errors)
    return f"needs {f.step.when_text}; false: " + "; ".join(f.reasons)


def _who(actor: Actor) -> str:
    return f"{actor.id!r} (roles: {', '.join(sorted(actor.roles)) or 'none'})"


def _data_text(errors: Mapping[str, str]) -> str:
    return "invalid data: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
