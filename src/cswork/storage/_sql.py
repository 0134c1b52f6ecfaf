"""SQL shared by the SQL backends: one read side and one write path.

A step becomes a list of ``Statement`` values (``statements``), built from
the change alone; each backend only says how to run them (SQLite one by one,
PostgreSQL in one pipelined round trip) and what its placeholders and list
parameters look like (``Dialect``). Values are always parameters.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from cswork.records import Case, CaseChange, CaseQuery, HistoryEntry, OutboxItem, Timer
from cswork.storage import codec

CASE_COLS = ", ".join(codec.CASE_COLUMNS)
ENTRY_COLS = ", ".join(codec.ENTRY_COLUMNS)
TIMER_COLS = ", ".join(codec.TIMER_COLUMNS)
OUTBOX_COLS = ", ".join(codec.OUTBOX_COLUMNS)
#: Case ids per ``IN (...)`` query of ``histories`` (SQLite allows 32,766 marks).
HISTORY_CHUNK = 500

#: The claim order of due timers (the due index has exactly these columns).
DUE_ORDER = "due_at, armed_at, case_id, ord"


@dataclass(frozen=True)
class Dialect:
    """How one SQL backend spells placeholders and lists.

    Attributes:
        mark: the placeholder (``?`` or ``%s``).
        any_list: True if a list goes in one parameter (``= ANY(%s)``), False
            if each element gets a placeholder (``IN (?, ?)``).
        upsert_case: text after the case INSERT that makes a duplicate id
            insert nothing (checked by its row count) instead of raising.
    """

    mark: str
    any_list: bool
    upsert_case: str = ""

    def member(self, column: str, values: Sequence[Any]) -> tuple[str, list[Any]]:
        """``column IN (…)`` for ``values``: the SQL and its parameters."""
        if self.any_list:
            return f"{column} = ANY({self.mark})", [list(values)]
        return f"{column} IN ({', '.join([self.mark] * len(values))})", list(values)

    def insert(self, table: str, columns: Sequence[str]) -> str:
        """An INSERT of one row of ``columns``."""
        marks = ", ".join([self.mark] * len(columns))
        return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})"


#: The order the kinds of statement run in (see ``batch_statements``).
KINDS = ("create", "update", "history", "fire", "arm", "cancel", "meet", "outbox")


@dataclass(frozen=True)
class Statement:
    """One SQL statement of a write, and what its row count must be.

    Attributes:
        kind: what it writes, one of ``KINDS``.
        sql: the statement.
        params: its parameters (one row), or rows for ``executemany``.
        many: run with ``executemany``.
        expect: the row count it must have, or None.
        case_id: the case the statement writes (for error messages).
    """

    kind: str
    sql: str
    params: Sequence[Any]
    many: bool = False
    expect: int | None = None
    case_id: str = ""


def statements(change: CaseChange, d: Dialect) -> list[Statement]:
    """The statements that write one change and its linked cases, in ``KINDS`` order."""
    out: list[Statement] = []
    _collect(change, d, out)
    return sorted(out, key=lambda s: KINDS.index(s.kind))


def batch_statements(changes: Sequence[CaseChange], d: Dialect) -> list[Statement]:
    """The statements of many changes, merged into few ``executemany`` calls.

    Runs the kinds in ``KINDS`` order across the whole batch, which is safe
    for a batch of due timers: every fired timer is pending and distinct, and
    a change may only cancel or meet a timer that is pending or that an
    earlier change of the batch armed. Case updates keep the order of the
    changes (a case may change twice in one batch): only neighbours with the
    same statement are merged; other kinds merge every equal statement.
    """
    by_kind: dict[str, list[Statement]] = {k: [] for k in KINDS}
    for change in changes:
        for s in statements(change, d):
            by_kind[s.kind].append(s)
    out: list[Statement] = []
    for kind in KINDS:
        if kind == "update":  # in change order: merge only runs of one statement
            for s in by_kind[kind]:
                if out and out[-1].kind == "update" and out[-1].sql == s.sql:
                    out[-1] = _merge(out[-1], s)
                else:
                    out.append(_merge(None, s))
            continue
        merged: dict[str, Statement] = {}
        for s in by_kind[kind]:
            merged[s.sql] = _merge(merged.get(s.sql), s)
        out.extend(merged.values())
    return out


def _merge(known: Statement | None, s: Statement) -> Statement:
    """``known`` with ``s``'s rows added (one ``executemany``)."""
    rows = list(s.params) if s.many else [s.params]
    if known is None:
        return Statement(s.kind, s.sql, rows, True, s.expect, s.case_id)
    expect = (
        None if known.expect is None or s.expect is None else known.expect + s.expect
    )
    return Statement(s.kind, s.sql, [*known.params, *rows], True, expect, known.case_id)


def _collect(change: CaseChange, d: Dialect, out: list[Statement]) -> None:
    case = change.case
    m = d.mark
    if change.expected_version == 0:
        sql = d.insert("cases", codec.CASE_COLUMNS) + d.upsert_case
        out.append(Statement("create", sql, codec.case_row(case), expect=1,
                             case_id=case.id))  # fmt: skip
    else:
        names, values = codec.changed_columns(change.previous, case)
        sets = ", ".join(f"{n} = {m}" for n in names)
        out.append(Statement(
            "update", f"UPDATE cases SET {sets} WHERE id = {m} AND version = {m}",
            (*values, case.id, change.expected_version), expect=1, case_id=case.id))  # fmt: skip
    now = codec.to_us(case.updated_at)
    if change.entries:
        rows = [codec.entry_row(e) for e in change.entries]
        out.append(Statement("history", d.insert("history", codec.ENTRY_COLUMNS),
                             rows, True))  # fmt: skip
    if change.fired_timer:
        out.append(Statement(
            "fire", f"UPDATE timers SET state = 'fired', closed_at = {m}"
            f" WHERE case_id = {m} AND id = {m} AND state = 'pending'",
            (now, case.id, change.fired_timer), expect=1, case_id=case.id))  # fmt: skip
    if change.arm:
        out.append(Statement("arm", d.insert("timers", codec.TIMER_INSERT_COLUMNS),
                             codec.timer_rows(change), True))  # fmt: skip
    if change.cancel:
        member, params = d.member("id", change.cancel)
        out.append(Statement(
            "cancel", f"UPDATE timers SET state = 'cancelled', closed_at = {m}"
            f" WHERE case_id = {m} AND {member} AND state = 'pending'",
            (now, case.id, *params)))  # fmt: skip
    if change.meet:
        member, params = d.member("id", change.meet)
        out.append(Statement(
            "meet", f"UPDATE timers SET met = 1 WHERE case_id = {m} AND {member}"
            " AND state = 'pending' AND kind = 'period'", (case.id, *params)))  # fmt: skip
    if change.outbox:
        sql = d.insert("outbox", codec.OUTBOX_INSERT_COLUMNS)
        out.append(Statement("outbox", sql, codec.outbox_rows(change), True))
    for linked in change.linked:
        _collect(linked, d, out)


SQLITE_DATA_EQUALS = "json_extract(data, '$.' || {mark}) = {mark}"


def where(
    query: CaseQuery, mark: str, data_equals: str = SQLITE_DATA_EQUALS
) -> tuple[str, list[Any]]:
    """A ``WHERE`` clause for ``query`` with ``mark`` placeholders, and its values.

    ``data_equals`` is the dialect's test that a field of the case data holds
    a text value (not a number that reads the same): the field name, then
    the value, as parameters at ``{mark}``.
    """
    closed = None if query.closed is None else int(query.closed)
    filters = {"workflow_id": query.workflow_id, "state": query.state,
               "customer": query.customer, "owner": query.owner, "unit": query.unit,
               "closed": closed}  # fmt: skip
    clauses = [f"{column} = {mark}" for column, v in filters.items() if v is not None]
    params: list[Any] = [v for v in filters.values() if v is not None]
    if query.breached is not None:
        clauses.append("breaches > 0" if query.breached else "breaches = 0")
    if query.assigned is not None:
        clauses.append(f"owner IS {'NOT ' if query.assigned else ''}NULL")
    if query.due_before is not None:
        clauses.append(f"next_due_at < {mark}")
        params.append(codec.to_us(query.due_before))
    if query.created_from is not None:
        clauses.append(f"created_at >= {mark}")
        params.append(codec.to_us(query.created_from))
    if query.created_before is not None:
        clauses.append(f"created_at < {mark}")
        params.append(codec.to_us(query.created_before))
    for name, value in (query.data or {}).items():
        clauses.append(data_equals.format(mark=mark))
        params += [name, value]
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


class SQLReads:
    """The read side of the SQL backends; subclasses say how to run a query.

    ``MARK`` is the driver's placeholder; ``ORDER`` the column that keeps
    insertion order of cases (SQLite's ``rowid``, a ``bigserial`` in
    PostgreSQL).
    """

    MARK = "?"
    DATA_EQUALS = SQLITE_DATA_EQUALS
    ORDER = "rowid"
    OUTBOX_ORDER = "rowid"

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[Any]:
        raise NotImplementedError

    def query_cases(self, query: CaseQuery) -> list[Case]:
        where_sql, params = where(query, self.MARK, self.DATA_EQUALS)
        sql = f"SELECT {CASE_COLS} FROM cases{where_sql} ORDER BY {self._order(query)}"
        if query.limit is not None or query.offset:
            sql += f" LIMIT {self.MARK} OFFSET {self.MARK}"
            params += [query.limit if query.limit is not None else 2**62, query.offset]
        return [codec.case_from(r) for r in self._read(sql, params)]

    def count_cases(self, query: CaseQuery) -> int:
        where_sql, params = where(query, self.MARK, self.DATA_EQUALS)
        return int(self._read(f"SELECT COUNT(*) FROM cases{where_sql}", params)[0][0])

    def _order(self, query: CaseQuery) -> str:
        way = " DESC" if query.descending else ""
        ties = f"created_at{way}, {self.ORDER}{way}"
        if query.order == "due":
            return f"next_due_at IS NULL, next_due_at{way}, {ties}"
        if query.order == "updated":
            return f"updated_at{way}, {ties}"
        return ties

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
            " ORDER BY due_at, ord",
            (case_id,),
        )
        return [codec.timer_from(r) for r in rows]

    def next_outbox_at(self, after: datetime) -> datetime | None:
        rows = self._read(
            f"SELECT MIN(claim_until) FROM outbox WHERE claim_until > {self.MARK}",
            (codec.to_us(after),),
        )
        return codec.from_us(rows[0][0]) if rows and rows[0][0] is not None else None

    def outbox(self, case_id: str | None = None) -> list[OutboxItem]:
        by_case = f" WHERE case_id = {self.MARK}" if case_id is not None else ""
        rows = self._read(
            f"SELECT {OUTBOX_COLS} FROM outbox{by_case} ORDER BY {self.OUTBOX_ORDER}",
            (case_id,) if case_id is not None else (),
        )
        return [codec.outbox_from(r) for r in rows]

    def next_due_at(self) -> datetime | None:
        rows = self._read(
            "SELECT due_at FROM timers WHERE state = 'pending'"
            f" ORDER BY {DUE_ORDER} LIMIT 1"
        )
        return codec.from_us(rows[0][0]) if rows else None
