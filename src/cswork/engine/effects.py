"""Applying a step's actions: data set, counters bumped, notices and hand-overs.

Pure functions on a working copy; nothing here touches a store.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime

from cswork.definition.model import (
    Call,
    Fire,
    Increment,
    Notify,
    Reset,
    SetData,
    StartCase,
)
from cswork.engine.compile import CompiledAction
from cswork.engine.guards import ViewFn
from cswork.records import JSON, Actor, OutboxItem, OutboxKind, Scalar


@dataclass(frozen=True, slots=True)
class Handover:
    """A linked case a step starts (a ``start_case`` action).

    Attributes:
        workflow_id: the workflow of the new case.
        data: the data it starts with (copied fields and the link).
        back_link: the field of this case that gets the new case's id, if any.
        accepted_at: the new case's acceptance time when it is not its start
            (``keep_start``): this case's acceptance.
    """

    workflow_id: str
    data: dict[str, JSON]
    back_link: str | None = None
    accepted_at: datetime | None = None


@dataclass(slots=True)
class Effects:
    """The working copy of what a step changes."""

    data: dict[str, Scalar]
    counters: dict[str, int]
    changes: dict[str, Scalar] = field(default_factory=dict)
    counter_changes: dict[str, int] = field(default_factory=dict)
    outbox: list[OutboxItem] = field(default_factory=list)
    notified: list[str] = field(default_factory=list)
    fire: list[str] = field(default_factory=list)
    handovers: list[Handover] = field(default_factory=list)

    def set(self, values: dict[str, Scalar]) -> None:
        """Set data fields (recording them as changes of this step)."""
        self.data.update(values)
        self.changes.update(values)


@dataclass(frozen=True, slots=True)
class ActionContext:
    """Who and what an action runs for."""

    case_id: str
    reason: str
    actor: Actor
    now: datetime
    new_id: Callable[[], str]
    view: ViewFn
    accepted_at: datetime  # the case's acceptance (its start, unless converted)


def apply_actions(
    actions: Iterable[CompiledAction], fx: Effects, ctx: ActionContext
) -> None:
    """Apply actions in order; each sees the effects of the ones before it."""
    for ca in actions:
        if ca.when is not None and not ca.when(fx.data, fx.counters, ctx.view):
            continue
        a = ca.action
        if isinstance(a, SetData):
            fx.set(dict(ca.values if ca.values is not None else a.set))
        elif isinstance(a, Increment | Reset):
            name = a.increment if isinstance(a, Increment) else a.reset
            value = fx.counters.get(name, 0) + 1 if isinstance(a, Increment) else 0
            fx.counters[name] = value
            fx.counter_changes[name] = value
        elif isinstance(a, Notify):
            fx.notified += [r for r in a.notify if r not in fx.notified]
            fx.outbox.append(notice_item(ctx, a.notify, a.message, a.at_any_hour))
        elif isinstance(a, Call):
            fx.outbox.append(outbox_item(ctx, "call", target=a.call))
        elif isinstance(a, StartCase):
            fx.handovers.append(_handover(a, fx, ctx))
        elif isinstance(a, Fire):
            fx.fire.append(a.fire)


def outbox_item(
    ctx: ActionContext,
    kind: OutboxKind,
    *,
    roles: tuple[str, ...] = (),
    target: str = "",
    message: str = "",
    payload: dict[str, JSON] | None = None,
) -> OutboxItem:
    """An outbox item caused by the step described by ``ctx``."""
    return OutboxItem(
        id=ctx.new_id(),
        case_id=ctx.case_id,
        created_at=ctx.now,
        kind=kind,
        reason=ctx.reason,
        roles=roles,
        target=target,
        message=message,
        payload=payload or {},
    )


def notice_item(
    ctx: ActionContext, recipients: Iterable[str], message: str, at_any_hour: bool
) -> OutboxItem:
    """A notice for roles, the case's owner (``owner``) or a role in its unit.

    The planner resolves ``owner`` and ``unit:ROLE`` to the persons and the
    unit of the case after the step, and decides whether the notice waits
    for working hours.
    """
    names = list(recipients)
    roles = tuple(r for r in names if r != "owner" and not r.startswith("unit:"))
    special: list[JSON] = [r for r in names if r not in roles]
    payload: dict[str, JSON] = {"to": special, "at_any_hour": at_any_hour}
    return outbox_item(ctx, "notify", roles=roles, message=message, payload=payload)


def _handover(a: StartCase, fx: Effects, ctx: ActionContext) -> Handover:
    data: dict[str, JSON] = {}
    for to, frm, mapping in a.copies():
        value = fx.data.get(frm)
        if mapping and isinstance(value, str | int | float | bool):
            value = mapping.get(str(value), value)
        data[to] = value
    if a.link:
        data[a.link] = ctx.case_id
    accepted = ctx.accepted_at if a.keep_start else None
    return Handover(a.start_case, data, a.back_link, accepted)


def handover_item(ctx: ActionContext, h: Handover, refused: str) -> OutboxItem:
    """A hand-over that could not be made in the step's transaction.

    It stays in the outbox — visible as stuck, and retried — until the new
    case can be started; it is never acknowledged as done before.
    """
    payload: dict[str, JSON] = {
        "data": h.data,
        "actor": ctx.actor.id,
        "roles": list[JSON](sorted(ctx.actor.roles)),
        "refused": refused,
    }
    if h.accepted_at is not None:
        payload["accepted_at"] = h.accepted_at.isoformat()
    return outbox_item(ctx, "start_case", target=h.workflow_id, payload=payload)
