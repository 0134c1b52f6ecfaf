"""Records ⇄ rows of JSON-friendly values: the row builders of every built-in store.

Times are integers (microseconds since the Unix epoch, UTC): exact, compact,
and ordered the same way as the times. Mappings are compact JSON text,
written with orjson when it is installed (about eight times faster than the
standard library here) and with the standard library otherwise; both write
the same text for the values cswork stores.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from types import MappingProxyType
from typing import Any, TypeVar

from cswork.records import Case, CaseChange, HistoryEntry, OutboxItem, Timer

K = TypeVar("K")
V = TypeVar("V")

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

CASE_COLUMNS = (
    "id", "workflow_id", "workflow_version", "state", "data", "counters",
    "customer", "owner", "unit", "closed", "breaches", "armed", "version",
    "created_at", "updated_at", "next_due_at",
)  # fmt: skip
ENTRY_COLUMNS = (
    "case_id", "seq", "at", "kind", "event", "actor", "roles", "from_state",
    "to_state", "changes", "counters", "detail",
)  # fmt: skip
TIMER_COLUMNS = (
    "id", "case_id", "deadline", "kind", "period", "due_at", "armed_at", "state",
    "met", "closed_at",
)  # fmt: skip
#: A timer row as written: its columns, then its place in the arming order.
TIMER_INSERT_COLUMNS = (*TIMER_COLUMNS, "ord")
OUTBOX_COLUMNS = (
    "id", "case_id", "created_at", "kind", "reason", "roles", "target", "message",
    "payload", "not_before",
)  # fmt: skip
OUTBOX_INSERT_COLUMNS = (*OUTBOX_COLUMNS, "claimed_by", "claim_until")

#: Timers one step may arm at most (their arming order is version × this + i).
MAX_ARMED_PER_STEP = 1024


_EMPTY: Mapping[Any, Any] = MappingProxyType({})


def frozen(mapping: dict[K, V]) -> Mapping[K, V]:
    """A read-only view of a mapping a record will hold (records are values)."""
    return MappingProxyType(mapping) if mapping else _EMPTY


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    return (moment - EPOCH) // _US


def from_us(us: int) -> datetime:
    """The inverse of ``to_us`` (aware, UTC)."""
    return EPOCH + timedelta(microseconds=us)


def _plain(value: Any) -> Any:
    """Read-only mappings (records hold them) as dicts; anything else refused."""
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


_STD_ENCODE = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=_plain
).encode
_STD_DECODE = json.JSONDecoder().decode


def _std_dumps(value: Any) -> str:
    return _STD_ENCODE(value)


def _std_loads(text: str | bytes) -> Any:
    return _STD_DECODE(text if isinstance(text, str) else text.decode())


_dumps: Callable[[Any], str] = _std_dumps
_loads: Callable[[str | bytes], Any] = _std_loads
try:
    import orjson
except ImportError:  # pragma: no cover - orjson installs wherever it has wheels
    pass
else:

    def _orjson_dumps(value: Any) -> str:
        return orjson.dumps(value).decode()

    _dumps, _loads = _orjson_dumps, orjson.loads


def dumps(value: Any) -> str:
    """Compact JSON text (keys must be text; NaN and infinities are never stored)."""
    if not value and isinstance(value, Mapping | list | tuple):
        return "{}" if isinstance(value, Mapping) else "[]"
    if type(value) is MappingProxyType:  # what records hold: a read-only dict
        value = value.copy()
    return _dumps(value)


def loads(text: str | bytes) -> Any:
    """Parse JSON text."""
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return _loads(text)


# ------------------------------------------------------------------- cases
def armed_text(c: Case) -> str:
    """The armed deadlines of a case as stored: name → [due, timer ids...]."""
    if not c.armed:
        return "{}"
    ids = c.timer_ids
    return dumps({n: [to_us(d), *ids.get(n, ())] for n, d in c.armed.items()})


def _armed_from(
    text: str | bytes,
) -> tuple[dict[str, datetime], dict[str, tuple[str, ...]]]:
    raw = loads(text)
    if not raw:
        return {}, {}
    return (
        {n: from_us(v[0]) for n, v in raw.items()},
        {n: tuple(v[1:]) for n, v in raw.items()},
    )


def case_row(c: Case) -> tuple[Any, ...]:
    """A case as a row in ``CASE_COLUMNS`` order."""
    nxt = c.next_due_at
    return (
        c.id, c.workflow_id, c.workflow_version, c.state, dumps(c.data),
        dumps(c.counters), c.customer, c.owner, c.unit, int(c.closed), c.breaches,
        armed_text(c), c.version, to_us(c.created_at), to_us(c.updated_at),
        to_us(nxt) if nxt is not None else None,
    )  # fmt: skip


def case_from(row: tuple[Any, ...] | Mapping[str, Any]) -> Case:
    """A case from a row in ``CASE_COLUMNS`` order (its mappings read-only)."""
    r = tuple(row.values()) if isinstance(row, Mapping) else row
    armed, ids = _armed_from(r[11])
    return Case(
        id=r[0], workflow_id=r[1], workflow_version=r[2], state=r[3],
        data=frozen(loads(r[4])), counters=frozen(loads(r[5])), customer=r[6],
        owner=r[7], unit=r[8], closed=bool(r[9]), breaches=r[10],
        armed=frozen(armed), timer_ids=frozen(ids), version=r[12],
        created_at=from_us(r[13]), updated_at=from_us(r[14]),
    )  # fmt: skip


def rebuild_armed(
    rows: list[tuple[str, str, str, int, str]],
) -> dict[str, tuple[str, int | None]]:
    """Cases' armed column from their pending timers (for migrations).

    Args:
        rows: pending timers as (case id, deadline, kind, due, timer id),
            ordered by case, deadline, warnings last, arming order.

    Returns:
        case id → (armed column text, next due time) for every case given.
    """
    armed: dict[str, dict[str, list[Any]]] = {}
    for case_id, deadline, kind, due, tid in rows:
        entry = armed.setdefault(case_id, {}).setdefault(deadline, [])
        if not entry:
            entry.append(due if kind != "warn" else None)
        entry.append(tid)
    out: dict[str, tuple[str, int | None]] = {}
    for case_id, deadlines in armed.items():
        value = {n: v for n, v in deadlines.items() if v[0] is not None}
        nxt = min((int(v[0]) for v in value.values()), default=None)
        out[case_id] = (dumps(value), nxt)
    return out


#: Case columns an update may change, with how to get each column's value.
_UPDATABLE = (
    ("state", lambda c: c.state),
    ("data", lambda c: dumps(c.data)),
    ("counters", lambda c: dumps(c.counters)),
    ("customer", lambda c: c.customer),
    ("owner", lambda c: c.owner),
    ("unit", lambda c: c.unit),
    ("closed", lambda c: int(c.closed)),
    ("breaches", lambda c: c.breaches),
    ("armed", armed_text),
)


def changed_columns(
    before: Case | None, after: Case
) -> tuple[tuple[str, ...], tuple[Any, ...]]:
    """The case columns an update must set, and their values.

    Always ``version``, ``updated_at`` and ``next_due_at``; the others only
    when they differ from ``before`` (all of them without ``before``). Writing
    less keeps unchanged indexes (the customer's, the state's) untouched.
    """
    names: list[str] = []
    values: list[Any] = []
    for name, get in _UPDATABLE:
        if before is None or _differs(name, before, after):
            names.append(name)
            values.append(get(after))
    nxt = after.next_due_at
    names += ["version", "updated_at", "next_due_at"]
    values += [after.version, to_us(after.updated_at), to_us(nxt) if nxt else None]
    return tuple(names), tuple(values)


def _differs(name: str, before: Case, after: Case) -> bool:
    if name == "armed":
        return before.armed != after.armed or before.timer_ids != after.timer_ids
    old, new = getattr(before, name), getattr(after, name)
    return old is not new and old != new


# ----------------------------------------------------------------- history
def entry_row(e: HistoryEntry) -> tuple[Any, ...]:
    """A history entry as a row in ``ENTRY_COLUMNS`` order."""
    return (
        e.case_id, e.seq, to_us(e.at), e.kind, e.event, e.actor, dumps(e.roles),
        e.from_state, e.to_state, dumps(e.changes), dumps(e.counters), dumps(e.detail),
    )  # fmt: skip


def entry_from(r: tuple[Any, ...]) -> HistoryEntry:
    """A history entry from a row in ``ENTRY_COLUMNS`` order."""
    return HistoryEntry(
        case_id=r[0], seq=r[1], at=from_us(r[2]), kind=r[3], event=r[4], actor=r[5],
        roles=tuple(loads(r[6])), from_state=r[7], to_state=r[8], changes=loads(r[9]),
        counters=loads(r[10]), detail=loads(r[11]),
    )  # fmt: skip


# ------------------------------------------------------------------ timers
def timer_row(t: Timer) -> tuple[Any, ...]:
    """A timer as a row in ``TIMER_COLUMNS`` order."""
    closed = to_us(t.closed_at) if t.closed_at is not None else None
    return (
        t.id, t.case_id, t.deadline, t.kind, t.period, to_us(t.due_at),
        to_us(t.armed_at), t.state, int(t.met), closed,
    )  # fmt: skip


def timer_rows(change: CaseChange) -> list[tuple[Any, ...]]:
    """The change's new timers as rows in ``TIMER_INSERT_COLUMNS`` order.

    ``ord`` orders timers armed at the same instant: by the case version that
    armed them, then by their place in that step.
    """
    base = change.case.version * MAX_ARMED_PER_STEP
    return [(*timer_row(t), base + i) for i, t in enumerate(change.arm)]


def timer_from(r: tuple[Any, ...]) -> Timer:
    """A timer from a row in ``TIMER_COLUMNS`` order."""
    return Timer(
        id=r[0], case_id=r[1], deadline=r[2], kind=r[3], period=r[4],
        due_at=from_us(r[5]), armed_at=from_us(r[6]), state=r[7], met=bool(r[8]),
        closed_at=from_us(r[9]) if r[9] is not None else None,
    )  # fmt: skip


# ------------------------------------------------------------------ outbox
def outbox_row(o: OutboxItem) -> tuple[Any, ...]:
    """An outbox item as a row in ``OUTBOX_COLUMNS`` order."""
    return (
        o.id, o.case_id, to_us(o.created_at), o.kind, o.reason, dumps(o.roles),
        o.target, o.message, dumps(o.payload),
        to_us(o.not_before) if o.not_before is not None else None,
    )  # fmt: skip


def outbox_rows(change: CaseChange) -> list[tuple[Any, ...]]:
    """The change's outbox items as rows in ``OUTBOX_INSERT_COLUMNS`` order.

    An item held until ``not_before`` is leased to nobody and claimable from
    that time; the others are leased to the change's owner, if it has one.
    """
    owner = change.outbox_owner or None
    until = to_us(change.outbox_until) if owner and change.outbox_until else 0
    return [
        (*outbox_row(o), None, to_us(o.not_before))
        if o.not_before is not None
        else (*outbox_row(o), owner, until)
        for o in change.outbox
    ]


def outbox_from(r: tuple[Any, ...]) -> OutboxItem:
    """An outbox item from a row in ``OUTBOX_COLUMNS`` order."""
    return OutboxItem(
        id=r[0], case_id=r[1], created_at=from_us(r[2]), kind=r[3], reason=r[4],
        roles=tuple(loads(r[5])), target=r[6], message=r[7], payload=loads(r[8]),
        not_before=from_us(r[9]) if r[9] is not None else None,
    )  # fmt: skip
