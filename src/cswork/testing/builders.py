"""Hand-built records for testing stores (no engine, no workflow needed)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from cswork.records import Case, CaseChange, HistoryEntry, OutboxItem, Timer
from cswork.storage.base import Store

T0 = datetime(2026, 3, 3, 2, 0, 0, 123456, tzinfo=UTC)
_ids = iter(range(10**9))


def new_id(prefix: str = "x") -> str:
    """A unique id for test records."""
    return f"{prefix}-{next(_ids)}"


def make_case(case_id: str | None = None, **kw: Any) -> Case:
    """A case at version 1, as ``create_case`` stores it."""
    fields: dict[str, Any] = {
        "id": case_id or new_id("case"),
        "workflow_id": "wf",
        "workflow_version": 1,
        "state": "open",
        "data": {"s": "文字 ✓", "i": 7, "f": 1.5, "b": True, "n": None},
        "counters": {"reopens": 0},
        "customer": "C-1",
        "owner": None,
        "unit": None,
        "closed": False,
        "breaches": 0,
        "armed": {},
        "timer_ids": {},
        "version": 1,
        "created_at": T0,
        "updated_at": T0,
    }
    fields.update(kw)
    return Case(**fields)


def entry(case: Case, seq: int, **kw: Any) -> HistoryEntry:
    """A history entry of ``case``."""
    fields: dict[str, Any] = {
        "case_id": case.id,
        "seq": seq,
        "at": case.updated_at,
        "kind": "start" if seq == 1 else "event",
        "event": "start" if seq == 1 else f"e{seq}",
        "actor": "tester",
        "roles": ("agent",),
        "from_state": None if seq == 1 else "open",
        "to_state": case.state,
        "changes": {"k": seq},
        "counters": {},
        "detail": {"n": [1, "two"]},
    }
    fields.update(kw)
    return HistoryEntry(**fields)


def timer(
    case: Case, deadline: str, due: datetime, kind: str = "due", **kw: Any
) -> Timer:
    """A pending timer of ``case``."""
    fields: dict[str, Any] = {
        "id": new_id("timer"),
        "case_id": case.id,
        "deadline": deadline,
        "kind": kind,
        "period": 1 if kind == "period" else 0,
        "due_at": due,
        "armed_at": case.updated_at,
    }
    fields.update(kw)
    return Timer(**fields)


def outbox(case: Case, **kw: Any) -> OutboxItem:
    """An outbox item of ``case``."""
    fields: dict[str, Any] = {
        "id": new_id("out"),
        "case_id": case.id,
        "created_at": case.updated_at,
        "kind": "notify",
        "reason": "e",
        "roles": ("boss",),
        "message": "hi",
    }
    fields.update(kw)
    return OutboxItem(**fields)


def created(store: Store, *timers_due: tuple[str, datetime], **kw: Any) -> Case:
    """Create a case with a start entry and timers ``(deadline, due)``.

    The case's ``armed`` and ``timer_ids`` name the timers, as the engine's do.
    """
    case = make_case(**kw)
    arm = tuple(timer(case, name, due) for name, due in timers_due)
    if arm and "armed" not in kw:
        case = replace(
            case,
            armed={t.deadline: t.due_at for t in arm},
            timer_ids={t.deadline: (t.id,) for t in arm},
        )
    store.create_case(
        CaseChange(case=case, expected_version=0, entries=(entry(case, 1),), arm=arm)
    )
    return case


def ids(store: Store, case: Case, *deadlines: str) -> tuple[str, ...]:
    """The ids of the case's pending timers of these deadlines."""
    return tuple(
        t.id
        for t in store.timers(case.id, pending_only=True)
        if t.deadline in deadlines
    )


def fire_due(
    store: Store,
    now: datetime,
    handler: Callable[[Case, Timer], CaseChange],
    *,
    worker_id: str,
    limit: int = 100,
) -> list[CaseChange]:
    """Claim the due timers and fire each with ``handler(case, timer)``.

    What an engine does, without one: a timer that an earlier change of the
    batch cancelled is skipped, and each is handled on its case as of the
    previous change.
    """
    with store.claim_due(now, worker_id=worker_id, limit=limit) as batch:
        cases = dict(batch.cases)
        closed: set[str] = set()
        changes: list[CaseChange] = []
        for t in batch.timers:
            if t.id in closed:
                continue
            change = handler(cases[t.case_id], t)
            cases[t.case_id] = change.case
            closed.update(change.cancel)
            changes.append(change)
        batch.commit(changes)
    return changes


def step(
    case: Case, at: datetime | None = None, new: dict[str, Any] | None = None, **kw: Any
) -> CaseChange:
    """A one-entry change of ``case``: ``new`` case fields, ``kw`` change fields."""
    at = at or case.updated_at + timedelta(minutes=1)
    after = replace(case, version=case.version + 1, updated_at=at, **(new or {}))
    return CaseChange(
        case=after,
        expected_version=case.version,
        entries=(entry(after, case.version + 1),),
        **kw,
    )


def everything(store: Store, case_id: str) -> tuple[Any, ...]:
    """All a store returns about a case."""
    return (store.load_case(case_id), store.history(case_id), store.timers(case_id))


def stores_agree(stores: list[Store], case_ids: list[str]) -> Iterator[str]:
    """Differences between what several stores return (for differential tests)."""
    first = stores[0]
    for other in stores[1:]:
        for cid in case_ids:
            if everything(first, cid) != everything(other, cid):
                yield f"case {cid}: {type(first).__name__} != {type(other).__name__}"
