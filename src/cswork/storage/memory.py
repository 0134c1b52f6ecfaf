"""``MemoryStore``: everything in this process, for tests and simulations.

It keeps the same encoded rows as the SQL backends (``codec``), so a record
handed out can never alias what is stored, and it honours the whole contract,
including transactions for ``batch`` and the exactly-once timer claim (under a
lock: one process, many threads).
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from copy import deepcopy
from datetime import datetime, timedelta
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
)
from cswork.storage import codec
from cswork.storage.base import Store, TimerHandler, handle_batch

# Positions in a timer row (codec.TIMER_COLUMNS).
_T_DEADLINE, _T_KIND, _T_DUE, _T_STATE, _T_MET, _T_CLOSED = 2, 3, 5, 7, 8, 9


class MemoryStore(Store):
    """A store in this process's memory; gone when the process ends."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._definitions: dict[tuple[str, int], StoredDefinition] = {}
        self._cases: dict[str, tuple[Any, ...]] = {}
        self._history: dict[str, list[tuple[Any, ...]]] = {}
        self._timers: dict[str, list[Any]] = {}
        self._case_timers: dict[str, list[str]] = {}
        self._due: list[tuple[int, int, str]] = []  # (due, arming order, id)
        self._armed = 0
        self._outbox: dict[str, list[Any]] = {}  # id → [row, owner, until, tries]

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
            if change.case.id in self._cases:
                raise ConflictError(change.case.id, "a case with this id exists")
            self._history[change.case.id] = []
            self._case_timers[change.case.id] = []
            self._apply(change)

    def load_case(self, case_id: str) -> Case:  # noqa: D102
        row = self._cases.get(case_id)
        if row is None:
            raise CaseNotFoundError(case_id)
        return codec.case_from(row)

    def commit(self, change: CaseChange) -> None:  # noqa: D102
        with self._lock:
            row = self._cases.get(change.case.id)
            if row is None:
                raise CaseNotFoundError(change.case.id)
            if row[10] != change.expected_version:
                raise ConflictError(
                    change.case.id,
                    f"expected version {change.expected_version}, found {row[10]}",
                )
            self._apply(change)

    def _apply(self, change: CaseChange) -> None:
        case = change.case
        now = codec.to_us(case.updated_at)
        if change.fired_timer:
            t = self._timers[change.fired_timer]
            if t[_T_STATE] != "pending":
                raise ConflictError(case.id, "timer already closed")
        self._cases[case.id] = codec.case_row(case)
        self._history[case.id].extend(codec.entry_row(e) for e in change.entries)
        if change.fired_timer:
            self._close(self._timers[change.fired_timer], "fired", now)
        if change.cancel or change.meet:
            for tid in self._case_timers[case.id]:
                t = self._timers[tid]
                if t[_T_STATE] != "pending":
                    continue
                if t[_T_DEADLINE] in change.cancel:
                    self._close(t, "cancelled", now)
                elif t[_T_DEADLINE] in change.meet and t[_T_KIND] == "period":
                    t[_T_MET] = 1
        for timer in change.arm:
            row = list(codec.timer_row(timer))
            self._timers[timer.id] = row
            self._case_timers[case.id].append(timer.id)
            self._armed += 1
            heapq.heappush(self._due, (row[_T_DUE], self._armed, timer.id))
        for out in codec.outbox_rows(change):
            self._outbox[out[0]] = [out[:-2], out[-2], out[-1], 0]

    @staticmethod
    def _close(row: list[Any], state: str, now: int) -> None:
        row[_T_STATE] = state
        row[_T_CLOSED] = now

    def query_cases(self, query: CaseQuery) -> list[Case]:  # noqa: D102
        out: list[Case] = []
        with self._lock:
            rows = list(self._cases.values())
        rows.sort(key=lambda r: r[11])  # stable: ties stay in creation order
        for r in rows:
            c = codec.case_from(r)
            if _matches(c, query):
                out.append(c)
                if query.limit is not None and len(out) >= query.limit:
                    break
        return out

    def history(self, case_id: str) -> list[HistoryEntry]:  # noqa: D102
        with self._lock:
            rows = list(self._history.get(case_id, ()))
        return [codec.entry_from(r) for r in rows]

    def timers(self, case_id: str, *, pending_only: bool = False) -> list[Timer]:  # noqa: D102
        with self._lock:
            rows = [tuple(self._timers[t]) for t in self._case_timers.get(case_id, ())]
        timers = [codec.timer_from(r) for r in rows]
        if pending_only:
            timers = [t for t in timers if t.state == "pending"]
        return sorted(timers, key=lambda t: t.due_at)  # stable: ties in arming order

    # ------------------------------------------------------------- deadlines
    def next_due_at(self) -> datetime | None:  # noqa: D102
        with self._lock:
            while self._due and self._timers[self._due[0][2]][_T_STATE] != "pending":
                heapq.heappop(self._due)
            return codec.from_us(self._due[0][0]) if self._due else None

    def fire_due_timers(  # noqa: D102
        self, now: datetime, handler: TimerHandler, *, worker_id: str, limit: int = 100
    ) -> list[CaseChange]:
        now_us = codec.to_us(now)
        with self._lock:
            due: list[tuple[int, int, str]] = []
            while self._due and self._due[0][0] <= now_us and len(due) < limit:
                item = heapq.heappop(self._due)
                if self._timers[item[2]][_T_STATE] == "pending":
                    due.append(item)
            timers = [codec.timer_from(tuple(self._timers[t])) for _, _, t in due]
            cases = {t.case_id: self.load_case(t.case_id) for t in timers}
            try:
                changes = handle_batch(timers, cases, handler)
            except BaseException:
                for item in due:
                    heapq.heappush(self._due, item)
                raise
            for change in changes:
                self._apply(change)
            return changes

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
        now_us, until = codec.to_us(now), codec.to_us(now + lease)
        out: list[OutboxItem] = []
        with self._lock:
            for entry in self._outbox.values():
                if len(out) >= limit:
                    break
                row, owner, expires, _ = entry
                if case_id is not None and row[1] != case_id:
                    continue
                if owner is not None and expires > now_us:
                    continue
                entry[1], entry[2], entry[3] = worker_id, until, entry[3] + 1
                out.append(codec.outbox_from(row))
        return out

    def ack_outbox(self, ids: Sequence[str], *, worker_id: str) -> None:  # noqa: D102
        with self._lock:
            for i in ids:
                entry = self._outbox.get(i)
                if entry is not None and entry[1] == worker_id:
                    del self._outbox[i]

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:  # noqa: D102
        with self._lock:
            saved = deepcopy(
                (self._cases, self._history, self._timers, self._case_timers,
                 self._due, self._outbox)
            )  # fmt: skip
            try:
                yield
            except BaseException:
                (self._cases, self._history, self._timers, self._case_timers,
                 self._due, self._outbox) = saved  # fmt: skip
                raise


def _matches(c: Case, q: CaseQuery) -> bool:
    return (
        (q.workflow_id is None or c.workflow_id == q.workflow_id)
        and (q.state is None or c.state == q.state)
        and (q.customer is None or c.customer == q.customer)
        and (q.closed is None or c.closed == q.closed)
        and (q.breached is None or (c.breaches > 0) == q.breached)
        and (q.created_from is None or c.created_at >= q.created_from)
        and (q.created_before is None or c.created_at < q.created_before)
    )
