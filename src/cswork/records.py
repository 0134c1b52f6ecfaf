"""Runtime values shared by the engine and the stores.

These are frozen dataclasses: cheap on the hot path, compared by value (what
the differential tests between backends rely on), and never mutated in place.
Case data is JSON-native — strings, numbers, booleans and null — with
datetimes held as ISO 8601 strings in UTC, so that every backend stores and
returns exactly the same values. Record fields that are times (``at``,
``due_at``, ``armed``…) are aware ``datetime`` objects in UTC.

Records are values: never mutate the mappings they hold (a store or an
engine may share them between records).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal, TypeAlias

from cswork._makers import fast_maker
from cswork.errors import InvalidArgumentError

#: A value of case data: what JSON can hold, without nesting.
Scalar: TypeAlias = str | int | float | bool | None
#: A JSON value (used in history details and stored definitions).
JSON: TypeAlias = str | int | float | bool | list["JSON"] | dict[str, "JSON"] | None

#: The role the engine acts under when a deadline fires an event.
SYSTEM_ROLE = "system"

HistoryKind = Literal["start", "event", "deadline", "warning", "period"]
TimerKind = Literal["due", "warn", "period"]
TimerState = Literal["pending", "fired", "cancelled"]


@dataclass(frozen=True, slots=True, init=False)
class Actor:
    """Someone (or something) taking a step.

    The embedding program authenticates people and builds actors; cswork only
    checks the roles against what the workflow allows.

    Attributes:
        id: a stable identifier such as a login name.
        roles: role names as used in the workflows, e.g. ``{"cs_agent"}``.
        units: the units (departments, groups) the person belongs to, e.g.
            ``{"technical"}``; steps marked ``only: unit`` need the case's unit.
    """

    id: str
    roles: frozenset[str]
    units: frozenset[str]

    def __init__(
        self, id: str, roles: Iterable[str] = (), units: Iterable[str] = ()
    ) -> None:
        if isinstance(roles, str) or isinstance(units, str):
            raise InvalidArgumentError(
                "roles and units are collections of names, not one string"
            )
        object.__setattr__(self, "id", id)
        object.__setattr__(self, "roles", frozenset(roles))
        object.__setattr__(self, "units", frozenset(units))


#: The actor the engine uses for steps caused by deadlines.
SYSTEM_ACTOR = Actor("cswork", frozenset({SYSTEM_ROLE}))


@dataclass(frozen=True, slots=True, kw_only=True)
class Case:
    """One case of one workflow, as stored.

    Attributes:
        id: unique id of the case.
        workflow_id: the workflow it runs.
        workflow_version: the definition version it is pinned to.
        state: its current state.
        data: the case data (JSON scalars; datetimes as ISO strings in UTC).
        counters: persisted counters such as ``reopen_count``.
        customer: the customer key (for per-customer queries), if any.
        owner: the person handling the case (the workflow's owner field), if any.
        unit: the unit responsible for it (the workflow's unit field), if any.
        closed: True once the case is in a final state.
        breaches: how many deadlines of this case were missed.
        armed: the deadlines armed now → when each next falls due (UTC).
        timer_ids: the deadlines armed now → the ids of their pending timers
            (the deadline's own timer first, then its warning's).
        version: the number of history entries; every commit appends at
            least one, so it also guards against lost updates.
        created_at: when the case started (aware, UTC).
        updated_at: when it last changed (aware, UTC).
    """

    id: str
    workflow_id: str
    workflow_version: int
    state: str
    data: Mapping[str, Scalar]
    counters: Mapping[str, int]
    customer: str | None
    owner: str | None
    unit: str | None
    closed: bool
    breaches: int
    armed: Mapping[str, datetime]
    timer_ids: Mapping[str, tuple[str, ...]]
    version: int
    created_at: datetime
    updated_at: datetime

    @property
    def next_due_at(self) -> datetime | None:
        """The earliest due time of the case's armed deadlines, or None."""
        return min(self.armed.values()) if self.armed else None

    @property
    def accepted_at(self) -> datetime:
        """When the customer's request was accepted.

        The case's start; for a case started by ``start_case`` with
        ``keep_start``, the acceptance of the case it came from (an inquiry
        converted into a complaint).
        """
        return accepted_at(self.created_at, self.data)


#: The data key holding a converted case's acceptance time (ISO 8601).
ACCEPTED_FIELD = "_accepted_at"


def accepted_at(created_at: datetime, data: Mapping[str, Any]) -> datetime:
    """A case's acceptance time: ``data``'s ``_accepted_at``, else ``created_at``."""
    value = data.get(ACCEPTED_FIELD)
    return datetime.fromisoformat(value) if isinstance(value, str) else created_at


@dataclass(frozen=True, slots=True, kw_only=True)
class HistoryEntry:
    """One step in a case's life: a start, an event, or a deadline firing.

    Replaying the entries in ``seq`` order — starting from empty data and
    counters, taking each ``to_state`` and merging each ``changes`` and
    ``counters`` — reproduces the case's state, data and counters.

    Attributes:
        case_id: the case.
        seq: 1-based position in the case's history.
        at: when it happened (aware, UTC).
        kind: ``start``, ``event``, ``deadline`` (a deadline fell due),
            ``warning`` (a deadline will soon fall due) or ``period`` (one
            period of a recurring obligation ended, met or missed).
        event: the event name, or the deadline name for timer entries.
        actor: id of the actor who took the step (``cswork`` for deadlines).
        roles: the roles the actor had.
        from_state: the state before the step (None for ``start``).
        to_state: the state after the step.
        changes: data fields this step set, with their new values.
        counters: counters this step changed, with their new values.
        detail: what else happened: notifications, timers armed and
            cancelled, a deadline's outcome.
    """

    case_id: str
    seq: int
    at: datetime
    kind: HistoryKind
    event: str
    actor: str
    roles: tuple[str, ...]
    from_state: str | None
    to_state: str
    changes: Mapping[str, Scalar]
    counters: Mapping[str, int]
    detail: Mapping[str, JSON]


@dataclass(frozen=True, slots=True, kw_only=True)
class Timer:
    """One armed deadline (or its warning, or one period of an obligation).

    A timer is armed ``pending`` and ends exactly once: ``fired`` at or after
    ``due_at``, or ``cancelled`` because its case left the deadline's scope
    (or met it).

    Attributes:
        id: unique id.
        case_id: the case.
        deadline: the deadline's name in the workflow.
        kind: ``due`` (the deadline itself), ``warn`` (its early warning) or
            ``period`` (one period of a recurring obligation).
        period: for ``period`` timers, 1 for the first period, 2 for the next…;
            0 otherwise.
        due_at: when it falls due (aware, UTC).
        armed_at: when it was armed (aware, UTC).
        state: ``pending``, ``fired`` or ``cancelled``.
        met: for a period: the obligation was met during it.
        closed_at: when it fired or was cancelled.
    """

    id: str
    case_id: str
    deadline: str
    kind: TimerKind
    period: int
    due_at: datetime
    armed_at: datetime
    state: TimerState = "pending"
    met: bool = False
    closed_at: datetime | None = None


OutboxKind = Literal["notify", "call", "start_case"]


@dataclass(frozen=True, slots=True, kw_only=True)
class OutboxItem:
    """Something to do outside the store after a commit, kept until done.

    Outbox items are written in the same transaction as the step that causes
    them and delivered afterwards, at least once; ``id`` is the idempotency
    key (a linked case started by ``start_case`` gets it as its case id).

    Attributes:
        id: unique id.
        case_id: the case whose step caused it.
        created_at: when that step committed (aware, UTC).
        kind: ``notify`` (tell roles), ``call`` (an action hook) or
            ``start_case`` (start a linked case).
        reason: the event or deadline that caused it.
        roles: for ``notify``: the roles to tell.
        target: for ``call``: the hook name; for ``start_case``: the workflow.
        message: human-readable text.
        payload: for ``notify``: the persons (``persons``), the unit and the
            roles within it (``unit``, ``unit_roles``) it is for; for
            ``start_case``: ``{"data": ..., "actor": ..., "roles": ...}``.
        not_before: a notice held outside working time: delivered from this
            time on (aware, UTC), or None.
    """

    id: str
    case_id: str
    created_at: datetime
    kind: OutboxKind
    reason: str
    roles: tuple[str, ...] = ()
    target: str = ""
    message: str = ""
    payload: Mapping[str, JSON] = field(default_factory=dict)
    not_before: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseChange:
    """Everything one step changes, written by the store in one transaction.

    The store applies, in this order: the case (created when
    ``expected_version`` is 0, else updated only if the stored version equals
    ``expected_version``), the history entries, marking ``fired_timer`` fired,
    cancelling the pending timers in ``cancel``, marking the pending period
    timers in ``meet`` met, arming the new timers, queueing the outbox items,
    and creating the ``linked`` cases.

    Attributes:
        case: the case after the step;
            ``case.version == expected_version + len(entries)``.
        expected_version: the version the engine read (0: a new case).
        entries: history entries to append, with ``seq`` from
            ``expected_version + 1`` on.
        previous: the case as the engine read it, if it has it; a store may
            use it to write only the columns that changed.
        cancel: ids of pending timers of the case to cancel.
        meet: ids of pending period timers of the case to mark met.
        arm: new timers (pending), in arming order.
        fired_timer: id of the timer this step fires, or "".
        outbox: what to deliver after the commit.
        outbox_owner: if set, the outbox items are queued already leased to
            this worker (who delivers them right after the commit) ...
        outbox_until: ... until this time; after it, anyone may claim them.
        linked: new cases started by this step (each a change with
            ``expected_version`` 0), created in the same transaction.
    """

    case: Case
    expected_version: int
    entries: tuple[HistoryEntry, ...]
    previous: Case | None = None
    cancel: tuple[str, ...] = ()
    meet: tuple[str, ...] = ()
    arm: tuple[Timer, ...] = ()
    fired_timer: str = ""
    outbox: tuple[OutboxItem, ...] = ()
    outbox_owner: str = ""
    outbox_until: datetime | None = None
    linked: tuple[CaseChange, ...] = ()

    def all_armed(self) -> list[Timer]:
        """The timers this change arms, its linked cases' included."""
        if not self.linked:
            return list(self.arm)
        return [*self.arm, *(t for c in self.linked for t in c.all_armed())]


CaseOrder = Literal["created", "due", "updated"]


@dataclass(frozen=True, slots=True, kw_only=True)
class CaseQuery:
    """Filters, order and page for listing cases; None means "any".

    Every field is checked when the query is made, so every store sees the
    same, valid query.

    Attributes:
        workflow_id: only cases of this workflow.
        state: only cases in this state.
        customer: only cases of this customer.
        owner: only cases this person owns.
        unit: only cases of this unit.
        assigned: only cases with (True) or without (False) an owner.
        closed: only closed (True) or open (False) cases.
        breached: only cases with (True) or without (False) a missed deadline.
        due_before: only cases whose next due time is before this (aware).
        created_from: only cases started at or after this time (aware).
        created_before: only cases started before this time (aware).
        data: only cases whose data holds each of these text values (a
            field name → the value, e.g. ``{"severity": "urgent"}``); for
            text and enum fields.
        order: ``created`` (start time), ``due`` (next due time; cases with
            none last) or ``updated`` (last step); ties in creation order.
        descending: newest (or latest due) first.
        offset: skip this many (0 or more).
        limit: at most this many (0 or more).

    Raises:
        InvalidArgumentError: a field of the wrong type or out of range.
    """

    workflow_id: str | None = None
    state: str | None = None
    customer: str | None = None
    owner: str | None = None
    unit: str | None = None
    assigned: bool | None = None
    closed: bool | None = None
    breached: bool | None = None
    due_before: datetime | None = None
    created_from: datetime | None = None
    created_before: datetime | None = None
    data: Mapping[str, str] | None = None
    order: CaseOrder = "created"
    descending: bool = False
    offset: int = 0
    limit: int | None = None

    def __post_init__(self) -> None:
        for name in ("workflow_id", "state", "customer", "owner", "unit"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, str):
                raise InvalidArgumentError(
                    f"{name} must be text or None, not {type(value).__name__}"
                )
        for name in ("assigned", "closed", "breached"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bool):
                raise InvalidArgumentError(
                    f"{name} must be True, False or None, not {value!r:.40}"
                )
        for name in ("due_before", "created_from", "created_before"):
            value = getattr(self, name)
            if value is not None and (
                not isinstance(value, datetime) or value.utcoffset() is None
            ):
                raise InvalidArgumentError(f"{name} must be an aware datetime or None")
        if self.data is not None:
            _check_data_filter(self.data)
            object.__setattr__(
                self, "data", dict(self.data)
            )  # the caller's stays theirs
        if self.order not in ("created", "due", "updated"):
            raise InvalidArgumentError(
                f"order is created, due or updated, not {self.order!r:.40}"
            )
        if not isinstance(self.descending, bool):
            raise InvalidArgumentError("descending must be True or False")
        check_count("offset", self.offset)
        check_count("limit", self.limit, optional=True)


_FIELD_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


def _check_data_filter(data: object) -> None:
    if not isinstance(data, Mapping):
        raise InvalidArgumentError(
            f"data must be a mapping of field names to text, not {type(data).__name__}"
        )
    if len(data) > 16:
        raise InvalidArgumentError("data filters at most 16 fields")
    for name, value in data.items():
        if not isinstance(name, str) or not _FIELD_NAME.fullmatch(name):
            raise InvalidArgumentError(f"data: {name!r:.40} is not a field name")
        if not isinstance(value, str):
            raise InvalidArgumentError(
                f"data: {name} must be compared with text, not {type(value).__name__}"
            )


def check_count(
    name: str, value: object, *, minimum: int = 0, optional: bool = False
) -> None:
    """Check an argument that counts something (a limit, a batch size).

    Raises:
        InvalidArgumentError: not a whole number (bools are not), or below
            ``minimum``.
    """
    if value is None and optional:
        return
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidArgumentError(
            f"{name} must be a whole number, not {type(value).__name__}"
        )
    if value < minimum:
        raise InvalidArgumentError(f"{name} must be at least {minimum}, not {value}")
    if value > 2**62:
        raise InvalidArgumentError(f"{name} is too large: {value}")


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredDefinition:
    """A workflow definition version as kept by a store.

    Attributes:
        workflow_id: the workflow.
        version: its version.
        digest: SHA-256 of ``source``; a changed definition needs a new version.
        source: the definition as canonical JSON.
    """

    workflow_id: str
    version: int
    digest: str
    source: str


#: Positional constructors of the records the engine builds on every step.
new_case = fast_maker(Case)
new_entry = fast_maker(HistoryEntry)
new_change = fast_maker(CaseChange)
