"""What the embedding program plugs in: named conditions, action hooks, a notifier.

Workflows name these functions; they never name Python code. A program
registers the functions it offers, and the engine refuses to load a workflow
that names one that is not registered.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Protocol, TypeVar

from cswork.definition.checks import hook_names
from cswork.errors import Problem
from cswork.records import JSON, Actor, Scalar

if TYPE_CHECKING:
    from cswork.definition.model import Workflow
    from cswork.definition.source import Source

log = logging.getLogger("cswork.notify")


@dataclass(frozen=True, slots=True)
class CaseView:
    """What a named condition sees: the case as it would be after the step.

    Attributes:
        case_id: the case ("" while starting).
        workflow_id: its workflow.
        state: the state before the step.
        event: the event being fired (``start`` while starting).
        actor: who fires it.
        data: the case data merged with the step's data.
        counters: the counters before the step.
        payload: only the data given with this step.
        now: the time of the step (aware, UTC).
    """

    case_id: str
    workflow_id: str
    state: str
    event: str
    actor: Actor
    data: Mapping[str, Scalar]
    counters: Mapping[str, int]
    payload: Mapping[str, Scalar]
    now: datetime


@dataclass(frozen=True, slots=True)
class Notice:
    """A notification for people: holders of roles, named persons, roles in a unit.

    The embedding program looks up the addresses in its own user directory.

    Attributes:
        id: the outbox id (an idempotency key: it may be delivered twice).
        case_id: the case.
        roles: the roles to tell (everyone holding one).
        reason: the event or deadline behind it.
        message: text from the workflow (may be empty).
        at: when the step that caused it committed (also when the notice
            waited for working hours).
        persons: person ids to tell (the case's owner).
        unit: the unit whose ``unit_roles`` to tell, or None.
        unit_roles: roles to tell within ``unit``.
        held_until: when a notice made outside working time was released, or
            None if it went at once.
    """

    id: str
    case_id: str
    roles: tuple[str, ...]
    reason: str
    message: str
    at: datetime
    persons: tuple[str, ...] = ()
    unit: str | None = None
    unit_roles: tuple[str, ...] = ()
    held_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class HookCall:
    """What an action hook receives.

    Attributes:
        id: the outbox id (an idempotency key: it may be delivered twice).
        case_id: the case.
        hook: the hook's name.
        reason: the event or deadline behind it.
        at: when the step that caused it committed.
        payload: extra data, if any.
    """

    id: str
    case_id: str
    hook: str
    reason: str
    at: datetime
    payload: Mapping[str, JSON]


class Notifier(Protocol):
    """Delivers notices (mail, chat, SMS…). May be called more than once per notice."""

    def notify(self, notice: Notice) -> None:
        """Deliver one notice; raise to have it retried later."""
        ...


class LoggingNotifier:
    """The default notifier: writes each notice to the ``cswork.notify`` log.

    Notices are business events, not problems of the program: they are logged
    at INFO, which a program that configures no logging never prints.
    """

    def notify(self, notice: Notice) -> None:
        """Log the notice at INFO level."""
        log.info(
            "notify %s about case %s (%s)%s",
            ",".join(notice.roles),
            notice.case_id,
            notice.reason,
            f": {notice.message}" if notice.message else "",
        )


ConditionFn = Callable[[CaseView], bool]
ActionFn = Callable[[HookCall], None]
F = TypeVar("F", bound=Callable[..., object])


class Hooks:
    """The registry of named conditions and action hooks.

    Example:
        >>> hooks = Hooks()
        >>> @hooks.condition("is_vip")
        ... def is_vip(case: CaseView) -> bool:
        ...     return str(case.data.get("customer_id", "")).startswith("VIP-")
        >>> sorted(hooks.conditions)
        ['is_vip']
    """

    def __init__(self) -> None:
        self.conditions: dict[str, ConditionFn] = {}
        self.actions: dict[str, ActionFn] = {}

    def condition(self, name: str) -> Callable[[F], F]:
        """Decorator registering a condition function under ``name``."""

        def register(fn: F) -> F:
            self.conditions[name] = fn  # type: ignore[assignment]
            return fn

        return register

    def action(self, name: str) -> Callable[[F], F]:
        """Decorator registering an action hook under ``name``."""

        def register(fn: F) -> F:
            self.actions[name] = fn  # type: ignore[assignment]
            return fn

        return register

    def missing(self, wf: Workflow, source: Source) -> list[Problem]:
        """Problems for every condition or hook ``wf`` names that is not registered."""
        problems = []
        for loc, kind, name in hook_names(wf):
            known = self.conditions if kind == "condition" else self.actions
            if name not in known:
                problems.append(
                    source.problem(
                        loc,
                        f"{kind} {name!r} is not registered with the engine's Hooks",
                    )
                )
        return sorted(problems, key=lambda p: (p.line, p.column))
