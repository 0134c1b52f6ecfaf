"""Checks across workflows: hand-overs (``start_case``) must be able to succeed.

A step that starts a linked case creates it in its own transaction, so the
hand-over must fit the target: every copied value must be storable in the
target's field (type, enum values, length, range — after its value map), and
the target's required start fields must all be given.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from cswork.definition.actions import Action, StartCase
from cswork.definition.conditions import Condition, checks_of
from cswork.definition.literals import literal_error
from cswork.definition.model import DataField, Workflow
from cswork.definition.source import Source
from cswork.errors import Problem
from cswork.hints import did_you_mean

Loc = tuple[str | int, ...]


def start_case_problems(
    wf: Workflow, src: Source, loc: Loc, action: StartCase, targets: dict[str, Workflow]
) -> list[Problem]:
    """What would make a hand-over from ``wf`` refused or lost."""
    here = (*loc, "start_case")
    target = targets.get(action.start_case)
    if target is None:
        hint = did_you_mean(action.start_case, targets)
        return [src.problem(here, f"unknown workflow {action.start_case!r}", hint)]
    messages = _copy_problems(wf, action, target)
    if action.link:
        spec = target.fields.get(action.link)
        if spec is None:
            messages.append(
                f"workflow {target.workflow!r} has no field {action.link!r}"
            )
        elif spec.type != "string":
            messages.append(f"link field {action.link!r} must be a string")
    if action.back_link:
        spec = wf.fields.get(action.back_link)
        if spec is None or spec.type != "string":
            messages.append(
                f"back_link {action.back_link!r} must be a string field of this workflow"
            )
    given = {to for to, _, _ in action.copies()} | {action.link}
    messages += [
        f"a {target.workflow!r} case needs {name!r} to start; "
        "copy it (or link it) so the hand-over cannot be refused"
        for name in target.start.requires
        if name not in given
    ]
    return [src.problem(here, m) for m in messages]


def _copy_problems(wf: Workflow, action: StartCase, target: Workflow) -> list[str]:
    """What stops a copied field from fitting the target's field."""
    messages: list[str] = []
    for to, frm, mapping in action.copies():
        spec = target.fields.get(to)
        if spec is None:
            messages.append(f"workflow {target.workflow!r} has no field {to!r}")
        elif frm not in wf.fields:
            messages.append(f"this workflow has no field {frm!r} to copy")
        elif mapping:
            for old, new in mapping.items():
                err = literal_error(spec, new)
                if err:
                    messages.append(f"{frm!r} value {old!r} maps to {new!r}: {err}")
        else:
            why = unfit(wf.fields[frm], spec)
            if why:
                messages.append(
                    f"field {frm!r} cannot be handed over to {target.workflow!r}: {why}"
                )
    return messages


def unfit(source: DataField, target: DataField) -> str:
    """Why a value of ``source`` may not fit ``target``, or ""."""
    if source.type != target.type:
        return f"it is {source.type} here and {target.type} there"
    if source.type == "enum":
        extra = [v for v in source.values or [] if v not in (target.values or [])]
        if extra:
            return f"{', '.join(map(repr, extra))} is not allowed there"
    if source.type == "string" and source.max_length > target.max_length:
        return f"up to {source.max_length} characters here, {target.max_length} there"
    if source.type in ("integer", "number"):
        lo = source.min if source.min is not None else float("-inf")
        hi = source.max if source.max is not None else float("inf")
        t_lo = target.min if target.min is not None else float("-inf")
        t_hi = target.max if target.max is not None else float("inf")
        if lo < t_lo or hi > t_hi:
            return f"the range {lo}..{hi} here is wider than {t_lo}..{t_hi} there"
    return ""


def all_actions(wf: Workflow) -> Iterator[tuple[Loc, Action]]:
    """(location, action) for every action of a workflow."""
    for i, a in enumerate(wf.start.actions):
        yield ("start", "actions", i), a
    for i, t in enumerate(wf.transitions):
        for j, a in enumerate(t.actions):
            yield ("transitions", i, "actions", j), a
    for name, d in wf.deadlines.items():
        for j, a in enumerate(d.on_due):
            yield ("deadlines", name, "on_due", j), a


def all_conditions(wf: Workflow) -> Iterator[tuple[Loc, Condition]]:
    """(location, condition) for every condition a workflow writes."""
    found: list[tuple[Loc, Condition | None]] = [(("start", "when"), wf.start.when)]
    found += [
        (("start", "requires_when", f), c) for f, c in wf.start.requires_when.items()
    ]
    for i, t in enumerate(wf.transitions):
        found.append((("transitions", i, "when"), t.when))
        found += [
            (("transitions", i, "requires_when", f), c)
            for f, c in t.requires_when.items()
        ]
    found += [(("deadlines", n, "when"), d.when) for n, d in wf.deadlines.items()]
    found += [((*loc, "when"), a.when) for loc, a in all_actions(wf)]
    for loc, cond in found:
        if cond is not None:
            yield loc, cond


def hook_names(wf: Workflow) -> Iterator[tuple[Loc, str, str]]:
    """(location, kind, name) of every registered function a workflow uses."""
    for loc, a in all_actions(wf):
        call: Any = getattr(a, "call", None)
        if call is not None:
            yield (*loc, "call"), "action hook", call
    for loc, cond in all_conditions(wf):
        for name in checks_of(cond):
            yield loc, "condition", name
