"""Records ⇄ rows of JSON-friendly values, shared by the built-in backends.

Times are integers (microseconds since the Unix epoch, UTC): exact, compact,
and ordered the same way as the times. Mappings are compact JSON text. The
``MemoryStore`` keeps these rows too, so it cannot hide aliasing bugs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from cswork.records import Case, CaseChange, HistoryEntry, OutboxItem, Timer

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)

CASE_COLUMNS = (
    "id", "workflow_id", "workflow_version", "state", "data", "counters",
    "customer", "closed", "breaches", "armed", "version", "created_at", "updated_at",
)  # fmt: skip
ENTRY_COLUMNS = (
    "case_id", "seq", "at", "kind", "event", "actor", "roles", "from_state",
    "to_state", "changes", "counters", "detail",
)  # fmt: skip
TIMER_COLUMNS = (
    "id", "case_id", "deadline", "kind", "period", "due_at", "armed_at", "state",
    "met", "closed_at",
)  # fmt: skip
OUTBOX_COLUMNS = (
    "id", "case_id", "created_at", "kind", "reason", "roles", "target", "message",
    "payload",
)  # fmt: skip


def to_us(moment: datetime) -> int:
    """An aware datetime as integer microseconds since the epoch."""
    return (moment - EPOCH) // _US


def from_us(us: int) -> datetime:
    """The inverse of ``to_us`` (aware, UTC)."""
    return EPOCH + timedelta(microseconds=us)


def _not_json(value: Any) -> Any:
    raise TypeError(f"{type(value).__name__} is not JSON")


# The C encoder json.dumps builds on every call, built once (no check for
# circular references: records hold trees); NaN and infinities are refused.
_make = getattr(json.encoder, "c_make_encoder", None)
_C_ENCODE = (
    _make(None, _not_json, json.encoder.encode_basestring, None, ":", ",", False,
          False, False)
    if _make is not None else None
)  # fmt: skip
_ENCODE = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False
).encode
_DECODE = json.JSONDecoder().decode


def dumps(value: Any) -> str:
    """Compact JSON (NaN and infinities refused)."""
    if not value and isinstance(value, dict | list | tuple):
        return "{}" if isinstance(value, dict) else "[]"
    if _C_ENCODE is not None:
        return "".join(_C_ENCODE(value, 0))
    return _ENCODE(value)


def loads(text: str | bytes) -> Any:
    """Parse JSON text."""
    if text == "{}":
        return {}
    if text == "[]":
        return []
    return _DECODE(text if isinstance(text, str) else text.decode())


def case_row(c: Case) -> tuple[Any, ...]:
    """A case as a row in ``CASE_COLUMNS`` order."""
    return (
        c.id, c.workflow_id, c.workflow_version, c.state, dumps(c.data),
        dumps(c.counters), c.customer, int(c.closed), c.breaches, dumps(c.armed),
        c.version, to_us(c.created_at), to_us(c.updated_at),
    )  # fmt: skip


def case_from(row: tuple[Any, ...] | Mapping[str, Any]) -> Case:
    """A case from a row in ``CASE_COLUMNS`` order."""
    r = tuple(row.values()) if isinstance(row, Mapping) else row
    return Case(
        id=r[0], workflow_id=r[1], workflow_version=r[2], state=r[3],
        data=loads(r[4]), counters=loads(r[5]), customer=r[6], closed=bool(r[7]),
        breaches=r[8], armed=loads(r[9]), version=r[10], created_at=from_us(r[11]),
        updated_at=from_us(r[12]),
    )  # fmt: skip


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


def timer_row(t: Timer) -> tuple[Any, ...]:
    """A timer as a row in ``TIMER_COLUMNS`` order."""
    closed = to_us(t.closed_at) if t.closed_at is not None else None
    return (
        t.id, t.case_id, t.deadline, t.kind, t.period, to_us(t.due_at),
        to_us(t.armed_at), t.state, int(t.met), closed,
    )  # fmt: skip


def timer_from(r: tuple[Any, ...]) -> Timer:
    """A timer from a row in ``TIMER_COLUMNS`` order."""
    return Timer(
        id=r[0], case_id=r[1], deadline=r[2], kind=r[3], period=r[4],
        due_at=from_us(r[5]), armed_at=from_us(r[6]), state=r[7], met=bool(r[8]),
        closed_at=from_us(r[9]) if r[9] is not None else None,
    )  # fmt: skip


def outbox_row(o: OutboxItem) -> tuple[Any, ...]:
    """An outbox item as a row in ``OUTBOX_COLUMNS`` order."""
    return (
        o.id, o.case_id, to_us(o.created_at), o.kind, o.reason, dumps(o.roles),
        o.target, o.message, dumps(o.payload),
    )  # fmt: skip


OUTBOX_INSERT_COLUMNS = (*OUTBOX_COLUMNS, "claimed_by", "claim_until")


def outbox_rows(change: CaseChange) -> list[tuple[Any, ...]]:
    """The change's outbox items as rows in ``OUTBOX_INSERT_COLUMNS`` order."""
    owner = change.outbox_owner or None
    until = to_us(change.outbox_until) if owner and change.outbox_until else 0
    return [(*outbox_row(o), owner, until) for o in change.outbox]


def outbox_from(r: tuple[Any, ...]) -> OutboxItem:
    """An outbox item from a row in ``OUTBOX_COLUMNS`` order."""
    return OutboxItem(
        id=r[0], case_id=r[1], created_at=from_us(r[2]), kind=r[3], reason=r[4],
        roles=tuple(loads(r[5])), target=r[6], message=r[7], payload=loads(r[8]),
    )  # fmt: skip
