"""Who may see what in the console: scopes of cases, and a pluggable policy.

The console authenticates nobody: the embedding program says who is looking
(an ``Actor``). A ``Policy`` then decides what that person may see:

- ``scopes(actor)`` — the sets of cases the person may list, each one a set
  of ``engine.query`` filters (``{"unit": "technical"}``, ``{"owner": id}``,
  or ``{}`` for every case). A queue page shows one scope at a time, so that
  every list is one query, paginated and counted by the store.
- ``can_see(actor, case)`` — whether a case page (and a customer's cases)
  may be shown. It must hold for every case of every scope.
- ``can_see_indicators(actor)`` — whether the quality figures may be shown
  (they are computed for the scope chosen, with the same filters).

Which events a person may fire is not the policy's business: the engine
decides (``allowed_events``, and ``fire`` refuses the rest).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

from cswork.records import Actor, Case

#: The ``engine.query`` filters a scope may use.
SCOPE_FILTERS = frozenset({"workflow", "owner", "unit", "customer"})
#: Roles the default policy lets see every case (``DefaultPolicy``).
MANAGER_ROLES = frozenset({"cs_manager", "leadership"})


@dataclass(frozen=True)
class Scope:
    """A set of cases a person may list, as ``engine.query`` filters.

    Attributes:
        key: a short stable id used in URLs (``all``, ``mine``, ``unit:technical``).
        label: what the page calls it ("my cases", "unit technical").
        filters: filters added to every query made in this scope; keys from
            ``SCOPE_FILTERS``. Empty: every case.
    """

    key: str
    label: str
    filters: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = set(self.filters) - SCOPE_FILTERS
        if unknown:
            raise ValueError(
                f"scope {self.key!r} filters on {sorted(unknown)}; "
                f"a scope may filter on {sorted(SCOPE_FILTERS)}"
            )


@runtime_checkable
class Policy(Protocol):
    """What a person may see in the console.

    Contract: every case listed in one of ``scopes(actor)`` satisfies
    ``can_see(actor, case)``; a person with no scope sees no list.
    """

    def scopes(self, actor: Actor) -> Sequence[Scope]:
        """The scopes the person may choose from; the first is the default."""
        ...

    def can_see(self, actor: Actor, case: Case) -> bool:
        """May the person open this case's page?"""
        ...

    def can_see_indicators(self, actor: Actor) -> bool:
        """May the person see the quality figures (for their scopes)?"""
        ...


class DefaultPolicy:
    """Managers see everything; others see their units' cases and their own.

    - A person holding one of ``managers`` (default: ``cs_manager``,
      ``leadership``) may list every case (scope ``all``), and also each of
      their units and their own cases as shortcuts.
    - Anyone else may list the cases of each unit they belong to
      (``unit:NAME``) and the cases they own (``mine``), and open those.
    - Indicators: managers, and people with a unit (computed for the unit
      or for their own cases).

    Args:
        managers: the roles that see every case.
    """

    def __init__(self, managers: Iterable[str] = MANAGER_ROLES) -> None:
        self.managers = frozenset(managers)

    def is_manager(self, actor: Actor) -> bool:
        """Does the person hold a role that sees every case?"""
        return bool(actor.roles & self.managers)

    def scopes(self, actor: Actor) -> list[Scope]:
        """``all`` for managers, then ``unit:NAME`` per unit, then ``mine``."""
        out = [Scope("all", "all cases")] if self.is_manager(actor) else []
        out += [
            Scope(f"unit:{u}", f"unit {u}", {"unit": u}) for u in sorted(actor.units)
        ]
        out.append(Scope("mine", "my cases", {"owner": actor.id}))
        return out

    def can_see(self, actor: Actor, case: Case) -> bool:
        """Managers: every case; others: their own and their units' cases."""
        return (
            self.is_manager(actor)
            or (case.owner is not None and case.owner == actor.id)
            or (case.unit is not None and case.unit in actor.units)
        )

    def can_see_indicators(self, actor: Actor) -> bool:
        """Managers and people who belong to a unit."""
        return self.is_manager(actor) or bool(actor.units)


def find_scope(scopes: Sequence[Scope], key: str | None) -> Scope | None:
    """The scope with this key (the first scope when ``key`` is None or empty)."""
    if not key:
        return scopes[0] if scopes else None
    return next((s for s in scopes if s.key == key), None)
