"""SQL shared by the SQL backends (values are always parameters)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cswork.records import Case, CaseQuery, HistoryEntry, Timer
from cswork.storage import codec

CASE_COLS = ", ".join(codec.CASE_COLUMNS)
ENTRY_COLS = ", ".join(codec.ENTRY_COLUMNS)
TIMER_COLS = ", ".join(codec.TIMER_COLUMNS)
OUTBOX_COLS = ", ".join(codec.OUTBOX_COLUMNS)
#: Case ids per ``IN (...)`` query of ``histories`` (SQLite allows 32,766 marks).
HISTORY_CHUNK = 500


def insert_sql(table: str, columns: tuple[str, ...], mark: str) -> str:
    """``INSERT INTO table (columns) VALUES (marks)`` with ``mark`` placeholders."""
    marks = ", ".join([mark] * len(columns))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


def update_case_sql(mark: str) -> str:
    """The versioned case update: the new values, then the id and expected version."""
    sets = ", ".join(f"{c} = {mark}" for c in (
        "state", "data", "counters", "customer", "closed", "breaches", "armed",
        "version", "updated_at"))  # fmt: skip
    return f"UPDATE cases SET {sets} WHERE id = {mark} AND version = {mark}"


def where(query: CaseQuery, mark: str) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause for ``query`` with ``mark`` placeholders, and its values."""
    closed = None if query.closed is None else int(query.closed)
    filters = {"workflow_id": query.workflow_id, "state": query.state,
               "customer": query.customer, "closed": closed}  # fmt: skip
    clauses = [f"{column} = {mark}" for column, v in filters.items() if v is not None]
    params = [v for v in filters.values() if v is not None]
    if query.breached is not None:
        clauses.append("breaches > 0" if query.breached else "breaches = 0")
    if query.created_from is not None:
        clauses.append(f"created_at >= {mark}")
        params.append(codec.to_us(query.created_from))
    if query.created_before is not None:
        clauses.append(f"created_at < {mark}")
        params.append(codec.to_us(query.created_before))
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SQLReads:
    """The read side of the SQL backends; subclasses say how to run a query.

    ``MARK`` is the driver's placeholder; ``ORDER`` the column that keeps
    insertion order (SQLite's ``rowid``, a ``bigserial`` in PostgreSQL).
    """

    MARK = "?"
    ORDER = "rowid"

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def query_cases(self, query: CaseQuery) -> list[Case]:
        where_sql, params = where(query, self.MARK)
        sql = f"SELECT {CASE_COLS} FROM cases{where_sql} ORDER BY created_at, {self.ORDER}"
        if query.limit is not None:
            sql += f" LIMIT {self.MARK}"
            params.append(query.limit)
        return [codec.case_from(r) for r in self._read(sql, params)]

    def history(self, case_id: str) -> list[HistoryEntry]:
        rows = self._read(
            f"SELECT {ENTRY_COLS} FROM history WHERE case_id = {self.MARK} ORDER BY seq",
            (case_id,),
        )
        return [codec.entry_from(r) for r in rows]

    def histories(self, case_ids: Sequence[str]) -> dict[str, list[HistoryEntry]]:
        out: dict[str, list[HistoryEntry]] = {cid: [] for cid in case_ids}
        unique = list(out)
        for at in range(0, len(unique), HISTORY_CHUNK):
            chunk = unique[at : at + HISTORY_CHUNK]
            marks = ", ".join([self.MARK] * len(chunk))
            rows = self._read(
                f"SELECT {ENTRY_COLS} FROM history WHERE case_id IN ({marks})"
                " ORDER BY case_id, seq",
                chunk,
            )
            for r in rows:
                out[r[0]].append(codec.entry_from(r))
        return out

    def timers(self, case_id: str, *, pending_only: bool = False) -> list[Timer]:
        extra = " AND state = 'pending'" if pending_only else ""
        rows = self._read(
            f"SELECT {TIMER_COLS} FROM timers WHERE case_id = {self.MARK}{extra}"
            f" ORDER BY due_at, {self.ORDER}",
            (case_id,),
        )
        return [codec.timer_from(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        rows = self._read("SELECT MIN(due_at) FROM timers WHERE state = 'pending'")
        return codec.from_us(rows[0][0]) if rows and rows[0][0] is not None else None
