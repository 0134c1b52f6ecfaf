"""The check stage: is this step allowed, for this actor, with this data?

One stage for ``start`` and ``fire`` alike. It reads nothing and writes
nothing: the case, the actor and the data go in; a frozen ``Request`` (the
chosen step and its validated data) comes out, or a ``RejectedError`` that
says why — for each alternative when several transitions share the event.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cswork.engine.compile import CompiledStep, CompiledWorkflow
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
    kind: str  # role | data | condition
    errors: Mapping[str, str]
    reasons: tuple[str, ...]


def check_start(
    wf: CompiledWorkflow,
    actor: Actor,
    payload: Mapping[str, Any],
    *,
    check_roles: bool = True,
) -> Request:
    """Check the start of a case of ``wf``.

    Args:
        wf: the workflow version.
        actor: who starts it.
        payload: the data it starts with.
        check_roles: False for a case another case hands over to (the
            hand-over declared in the SOP is the permission).

    Raises:
        PermissionDeniedError, InvalidDataError: refused.
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
    if errors:
        raise InvalidDataError(_data_text(errors), field_errors=errors, event="start")
    return Request(step, actor, clean, dict(clean))


def check_event(
    wf: CompiledWorkflow,
    case: Case,
    event: str,
    actor: Actor,
    payload: Mapping[str, Any],
    conditions: Mapping[str, ConditionFn],
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
        clean, errors = validate_payload(
            payload, wf.validators, step.requires, step.allowed
        )
        if errors:
            failures.append(_Failure(step, "data", errors, ()))
            continue
        merged = {**case.data, **clean}
        if step.when is not None and step.when_cond is not None:
            view = _view(wf, case, event, actor, merged, clean)
            if not step.when(merged, case.counters, view):
                why = explain_condition(
                    step.when_cond, merged, case.counters, view,
                    wf.definition.fields, conditions,
                )  # fmt: skip
                failures.append(_Failure(step, "condition", {}, tuple(why)))
                continue
        return Request(step, actor, clean, merged)
    raise _refusal(wf, case, event, actor, failures)


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
    clean, errors = validate_payload(
        payload, wf.validators, step.requires, step.allowed
    )
    if errors:
        return False
    merged = {**case.data, **clean}
    view = _view(wf, case, step.event, actor, merged, clean)
    return step.when is None or step.when(merged, case.counters, view)


def _view(
    wf: CompiledWorkflow,
    case: Case,
    event: str,
    actor: Actor,
    merged: Mapping[str, Scalar],
    clean: Mapping[str, Scalar],
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
    )


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
    beyond_roles = [f for f in failures if f.kind != "role"]
    if not beyond_roles:
        roles = set().union(*(f.step.roles for f in failures))
        return PermissionDeniedError(
            f"{_who(actor)} may not fire {event!r} in state {case.state!r}; "
            f"it needs one of: {', '.join(sorted(roles))}",
            actor_id=actor.id,
            required_roles=roles,
            **common,
        )
    if len(failures) == 1:
        text = _reason(failures[0])
    else:
        lines = [
            f"  {i}. {_label(f.step, case.state)}: {_reason(f, actor)}"
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


def _reason(f: _Failure, actor: Actor | None = None) -> str:
    if f.kind == "role":
        who = _who(actor) if actor is not None else "the actor"
        return f"{who} lacks a role ({', '.join(sorted(f.step.roles))})"
    if f.kind == "data":
        return _data_text(f.errors)
    return f"needs {f.step.when_text}; false: " + "; ".join(f.reasons)


def _who(actor: Actor) -> str:
    return f"{actor.id!r} (roles: {', '.join(sorted(actor.roles)) or 'none'})"


def _data_text(errors: Mapping[str, str]) -> str:
    return "invalid data: " + "; ".join(f"{k}: {v}" for k, v in errors.items())
