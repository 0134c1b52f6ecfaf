"""``MemoryStore``: everything in this process, for tests and simulations.

It keeps the records themselves — values whose mappings are read-only, so a
record handed out can never alias what is stored in a harmful way — and
honours the whole contract: transactions for ``batch`` (an undo log, so a
batch costs what it changes, not what the store holds), the exactly-once
timer claim (under a lock: one process, many threads), and atomicity under
interrupts. ``MemoryStore(strict=True)`` round-trips every record through the
codec the SQL stores use, so anything they could not store fails here too.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from types import MappingProxyType
from typing import Any

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    DefinitionChangedError,
    UnknownWorkflowError,
)
from cswork.records import (
    Case,
    CaseChange,
    CaseQuery,
    HistoryEntry,
    OutboxItem,
    StoredDefinition,
    Timer,
    TimerState,
)
from cswork.storage import codec
from cswork.storage.base import DueBatch, Store, check_claim, check_lease

#: An undo record: (table, key, old value or _MISSING), or (list, length).
_Undo = tuple[Any, ...]
_MISSING = object()


class MemoryStore(Store):
    """A store in this process's memory; gone when the process ends.

    Args:
        strict: round-trip every record through the SQL stores' codec (JSON
            rows), as the conformance tests do.
    """

    def __init__(self, *, strict: bool = False) -> None:
        self.strict = strict
        self._lock = threading.RLock()
        self._definitions: dict[tuple[str, int], StoredDefinition] = {}
        self._cases: dict[str, Case] = {}
        self._history: dict[str, list[HistoryEntry]] = {}
        self._timers: dict[str, dict[str, tuple[Timer, int]]] = {}
        self._due: list[tuple[int, int, str, int, str]] = []
        self._outbox: dict[str, list[Any]] = {}  # id → [item, owner, until, tries]
        self._undo: list[_Undo] = []
        self._batch_marks: list[int] = []

    # ---------------------------------------------------------- definitions
    def save_definition(self, definition: StoredDefinition) -> None:  # noqa: D102
        key = (definition.workflow_id, definition.version)
        with self._lock:
            known = self._definitions.get(key)
            if known is not None and known.digest != definition.digest:
                raise DefinitionChangedError(*key)
            self._definitions.setdefault(key, definition)

    def load_definition(self, workflow_id: str, version: int) -> StoredDefinition:  # noqa: D102
        try:
            return self._definitions[(workflow_id, version)]
        except KeyError:
            raise UnknownWorkflowError(workflow_id, version) from None

    def list_definitions(self) -> list[StoredDefinition]:  # noqa: D102
        return [self._definitions[k] for k in sorted(self._definitions)]

    # ----------------------------------------------------------------- cases
    def create_case(self, change: CaseChange) -> None:  # noqa: D102
        with self._lock:
            self._check(change)
            self._atomically(lambda: self._apply(change))

    def load_case(self, case_id: str) -> Case:  # noqa: D102
        case = self._cases.get(case_id)
        if case is None:
            raise CaseNotFoundError(case_id)
        return case

    def commit(self, change: CaseChange) -> None:  # noqa: D102
        with self._lock:
            self._check(change)
            mark = len(self._undo)
            try:
                self._apply(change)
            except BaseException:
                self._rollback(mark)
                raise
            if not self._batch_marks:
                del self._undo[mark:]

    def _check(self, change: CaseChange) -> None:
        """Refuse a change that cannot be written, before anything is changed."""
        case_id = change.case.id
        found = self._cases.get(case_id)
        if change.expected_version == 0:
            if found is not None:
                raise ConflictError(case_id, "a case with this id exists")
        elif found is None:
            raise CaseNotFoundError(case_id)
        elif found.version != change.expected_version:
            raise ConflictError(case_id, f"found version {found.version}")
        if change.fired_timer:
            t = self._timers[case_id].get(change.fired_timer)
            if t is None or t[0].state != "pending":
                raise ConflictError(case_id, "the timer was already closed")
        for linked in change.linked:
            self._check(linked)

    def _atomically(self, work: Callable[[], None]) -> None:
        """Run ``work``; on any exception undo what it did (outside a batch too)."""
        mark = len(self._undo)
        try:
            work()
        except BaseException:
            self._rollback(mark)
            raise
        if not self._batch_marks:
            del self._undo[mark:]

    def _rollback(self, mark: int) -> None:
        while len(self._undo) > mark:
            record = self._undo.pop()
            if len(record) == 2:  # a list grew: cut it back
                del record[0][record[1] :]
            elif record[2] is _MISSING:
                record[0].pop(record[1], None)
            else:
                record[0][record[1]] = record[2]

    def _set(self, table: dict[Any, Any], key: Any, value: Any) -> None:
        """``table[key] = value``, with its undo logged first."""
        self._undo.append((table, key, table.get(key, _MISSING)))
        table[key] = value

    def _apply(self, change: CaseChange) -> None:
        case = self._keep_case(change.case)
        case_id = case.id
        now = case.updated_at
        if change.expected_version == 0:
            self._set(self._history, case_id, [])
            self._set(self._timers, case_id, {})
        self._set(self._cases, case_id, case)
        history = self._history[case_id]
        self._undo.append((history, len(history)))
        history.extend(self._keep_entry(e) for e in change.entries)
        timers = self._timers[case_id]
        if change.fired_timer:
            self._close(timers, change.fired_timer, "fired", now)
        for tid in change.cancel:
            self._close(timers, tid, "cancelled", now)
        for tid in change.meet:
            found = timers.get(tid)
            if found and found[0].state == "pending" and found[0].kind == "period":
                self._set(timers, tid, (replace(found[0], met=True), found[1]))
        base = case.version * codec.MAX_ARMED_PER_STEP
        for i, timer in enumerate(change.arm):
            if self.strict:
                timer = codec.timer_from(codec.timer_row(timer))
            self._set(timers, timer.id, (timer, base + i))
            due = (codec.to_us(timer.due_at), codec.to_us(timer.armed_at))
            heapq.heappush(self._due, (*due, case_id, base + i, timer.id))
        owner = change.outbox_owner or None
        until = codec.to_us(change.outbox_until) if owner and change.outbox_until else 0
        for item in change.outbox:
            if self.strict:
                item = codec.outbox_from(codec.outbox_row(item))
            entry: list[Any] = (
                [item, None, codec.to_us(item.not_before), 0]  # held: nobody's yet
                if item.not_before is not None
                else [item, owner, until, 0]
            )
            self._set(self._outbox, item.id, entry)
        for linked in change.linked:
            self._apply(linked)

    def _close(
        self,
        timers: dict[str, tuple[Timer, int]],
        tid: str,
        state: TimerState,
        now: datetime,
    ) -> None:
        found = timers.get(tid)
        if found and found[0].state == "pending":
            t = found[0]
            closed = Timer(
                id=t.id,
                case_id=t.case_id,
                deadline=t.deadline,
                kind=t.kind,
                period=t.period,
                due_at=t.due_at,
                armed_at=t.armed_at,
                state=state,
                met=t.met,
                closed_at=now,
            )  # fmt: skip  (not dataclasses.replace: this is the hot path)
            self._set(timers, tid, (closed, found[1]))

    def _keep_case(self, case: Case) -> Case:
        if self.strict:
            return codec.case_from(codec.case_row(case))
        proxy = MappingProxyType
        if (
            type(case.data) is proxy
            and type(case.counters) is proxy
            and type(case.armed) is proxy
            and type(case.timer_ids) is proxy
        ):
            return case
        return replace(
            case,
            data=codec.frozen(dict(case.data)),
            counters=codec.frozen(dict(case.counters)),
            armed=codec.frozen(dict(case.armed)),
            timer_ids=codec.frozen(dict(case.timer_ids)),
        )

    def _keep_entry(self, entry: HistoryEntry) -> HistoryEntry:
        return codec.entry_from(codec.entry_row(entry)) if self.strict else entry

    def query_cases(self, query: CaseQuery) -> list[Case]:  # noqa: D102
        found = self._matching(query)
        stop = None if query.limit is None else query.offset + query.limit
        return found[query.offset : stop]

    def count_cases(self, query: CaseQuery) -> int:  # noqa: D102
        return len(self._matching(query))

    def _matching(self, q: CaseQuery) -> list[Case]:
        with self._lock:
            cases = [c for c in self._cases.values() if _matches(c, q)]
        # Sorts are stable and the dict keeps creation order: ties stay in it.
        if q.descending:
            cases.reverse()
        cases.sort(key=lambda c: c.created_at, reverse=q.descending)
        if q.order == "updated":
            cases.sort(key=lambda c: c.updated_at, reverse=q.descending)
        elif q.order == "due":
            with_due = [c for c in cases if c.armed]
            with_due.sort(key=_next_due, reverse=q.descending)
            cases = with_due + [c for c in cases if not c.armed]
        return cases

    def history(self, case_id: str) -> list[HistoryEntry]:  # noqa: D102
        with self._lock:
            entries = list(self._history.get(case_id, ()))
        # Details hold lists: hand out copies, never what is kept.
        return [codec.entry_from(codec.entry_row(e)) for e in entries]

    def timers(self, case_id: str, *, pending_only: bool = False) -> list[Timer]:  # noqa: D102
        with self._lock:
            found = list(self._timers.get(case_id, {}).values())
        found.sort(key=lambda t: (t[0].due_at, t[1]))
        return [t for t, _ in found if not pending_only or t.state == "pending"]

    # ------------------------------------------------------------- deadlines
    def next_due_at(self) -> datetime | None:  # noqa: D102
        with self._lock:
            while self._due and not self._pending(self._due[0]):
                heapq.heappop(self._due)
            return codec.from_us(self._due[0][0]) if self._due else None

    def _pending(self, item: tuple[int, int, str, int, str]) -> bool:
        found = self._timers.get(item[2], {}).get(item[4])
        return found is not None and found[0].state == "pending"

    @contextmanager
    def claim_due(  # noqa: D102
        self, now: datetime, *, worker_id: str, limit: int = 100
    ) -> Iterator[DueBatch]:
        check_claim(limit)
        now_us = codec.to_us(now)
        with self._lock:
            picked: list[tuple[int, int, str, int, str]] = []
            while self._due and self._due[0][0] <= now_us and len(picked) < limit:
                item = heapq.heappop(self._due)
                if self._pending(item):
                    picked.append(item)
            for item in picked:  # still pending until a change fires them
                heapq.heappush(self._due, item)
            timers = [self._timers[i[2]][i[4]][0] for i in picked]
            cases = {t.case_id: self._cases[t.case_id] for t in timers}

            def write(changes: Sequence[CaseChange]) -> None:
                def apply_all() -> None:
                    for change in changes:
                        self._check(change)
                        self._apply(change)

                self._atomically(apply_all)

            with self.batch():  # the claim is one transaction, like a batch
                yield DueBatch(timers, cases, write)

    # ---------------------------------------------------------------- outbox
    def claim_outbox(  # noqa: D102
        self,
        now: datetime,
        *,
        worker_id: str,
        lease: timedelta,
        limit: int = 100,
        case_id: str | None = None,
    ) -> list[OutboxItem]:
        check_claim(limit)
        check_lease(lease)
        now_us, until = codec.to_us(now), codec.to_us(now + lease)
        out: list[OutboxItem] = []
        with self._lock:
            for key, entry in list(self._outbox.items()):
                if len(out) >= limit:
                    break
                item, _, expires, tries = entry
                if case_id is not None and item.case_id != case_id:
                    continue
                if expires > now_us:  # leased, or held until later
                    continue
                self._set(self._outbox, key, [item, worker_id, until, tries + 1])
                out.append(item)
            if not self._batch_marks:
                self._undo.clear()
        return out

    def ack_outbox(self, ids: Sequence[str], *, worker_id: str) -> None:  # noqa: D102
        with self._lock:
            for i in ids:
                entry = self._outbox.get(i)
                if entry is not None and entry[1] == worker_id:
                    self._set(self._outbox, i, entry)  # logs the undo
                    del self._outbox[i]
            if not self._batch_marks:
                self._undo.clear()

    def next_outbox_at(self, after: datetime) -> datetime | None:  # noqa: D102
        after_us = codec.to_us(after)
        with self._lock:
            times = [e[2] for e in self._outbox.values() if e[2] > after_us]
        return codec.from_us(min(times)) if times else None

    def outbox(self, case_id: str | None = None) -> list[OutboxItem]:  # noqa: D102
        with self._lock:
            return [
                e[0]
                for e in self._outbox.values()
                if case_id is None or e[0].case_id == case_id
            ]

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:  # noqa: D102
        with self._lock:
            self._batch_marks.append(len(self._undo))
            try:
                yield
            except BaseException:
                self._rollback(self._batch_marks[-1])
                raise
            finally:
                mark = self._batch_marks.pop()
                if not self._batch_marks:
                    del self._undo[mark:]


def _next_due(c: Case) -> datetime:
    due = c.next_due_at
    assert due is not None  # noqa: S101 - only cases with armed deadlines
    return due


def _matches(c: Case, q: CaseQuery) -> bool:
    due = c.next_due_at
    return (
        (q.workflow_id is None or c.workflow_id == q.workflow_id)
        and (q.state is None or c.state == q.state)
        and (q.customer is None or c.customer == q.customer)
        and (q.owner is None or c.owner == q.owner)
        and (q.unit is None or c.unit == q.unit)
        and (q.assigned is None or (c.owner is not None) == q.assigned)
        and (q.due_before is None or (due is not None and due < q.due_before))
        and (q.closed is None or c.closed == q.closed)
        and (q.breached is None or (c.breaches > 0) == q.breached)
        and (q.created_from is None or c.created_at >= q.created_from)
        and (q.created_before is None or c.created_at < q.created_before)
        and (q.data is None or all(c.data.get(k) == v for k, v in q.data.items()))
    )
