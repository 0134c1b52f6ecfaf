"""``SQLiteStore``: the embedded default, on the standard library's ``sqlite3``.

- WAL journal, durable commits by default (``synchronous=FULL``; ``NORMAL``
  trades the last transactions on power loss for speed, never corruption).
- Every write is one ``BEGIN IMMEDIATE`` transaction, which serialises
  writers across threads and processes, so several processes can share one
  file; ``busy_timeout`` makes them wait for each other instead of failing.
- Timers are fired inside the same transaction that claims them, so each
  fires exactly once even with several worker processes (a killed worker's
  transaction is rolled back and its timers stay pending).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any, Literal

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    DefinitionChangedError,
    StorageError,
    StoredFormatError,
    UnknownWorkflowError,
)
from cswork.records import (
    Case,
    CaseChange,
    OutboxItem,
    StoredDefinition,
)
from cswork.storage import codec
from cswork.storage._sql import (
    CASE_COLS,
    OUTBOX_COLS,
    TIMER_COLS,
    SQLReads,
    insert_sql,
    update_case_sql,
)
from cswork.storage.base import FORMAT_VERSION, Store, TimerHandler, handle_batch

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    workflow_id TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (workflow_id, version));
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, workflow_version INTEGER NOT NULL,
    state TEXT NOT NULL, data TEXT NOT NULL, counters TEXT NOT NULL, customer TEXT,
    closed INTEGER NOT NULL, breaches INTEGER NOT NULL, armed TEXT NOT NULL,
    version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cases_by_workflow ON cases (workflow_id, state);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer);
CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at);
CREATE TABLE IF NOT EXISTS history (
    case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,
    kind TEXT NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, roles TEXT NOT NULL,
    from_state TEXT, to_state TEXT NOT NULL, changes TEXT NOT NULL,
    counters TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
    id TEXT PRIMARY KEY, case_id TEXT NOT NULL, deadline TEXT NOT NULL,
    kind TEXT NOT NULL, period INTEGER NOT NULL, due_at INTEGER NOT NULL,
    armed_at INTEGER NOT NULL, state TEXT NOT NULL, met INTEGER NOT NULL,
    closed_at INTEGER);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS timers_by_case ON timers (case_id);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, created_at INTEGER NOT NULL,
    kind TEXT NOT NULL, reason TEXT NOT NULL, roles TEXT NOT NULL,
    target TEXT NOT NULL, message TEXT NOT NULL, payload TEXT NOT NULL,
    claimed_by TEXT, claim_until INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id);
"""

#: format version → SQL that upgrades a store from the version before it.
MIGRATIONS: dict[int, str] = {}

_INSERT_CASE = insert_sql("cases", codec.CASE_COLUMNS, "?")
_INSERT_ENTRY = insert_sql("history", codec.ENTRY_COLUMNS, "?")
_INSERT_TIMER = insert_sql("timers", codec.TIMER_COLUMNS, "?")
_INSERT_OUTBOX = insert_sql("outbox", codec.OUTBOX_INSERT_COLUMNS, "?")
_UPDATE_CASE = update_case_sql("?")


def _marks(n: int) -> str:
    return ", ".join("?" * n)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn sqlite3 exceptions into ``StorageError`` (the cause is kept)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite: {exc}") from exc


class SQLiteStore(SQLReads, Store):
    """A store in one SQLite file, shareable by threads and processes.

    Args:
        path: the database file (created if missing), or ``":memory:"``.
        synchronous: SQLite's ``synchronous`` level; ``FULL`` (the default)
            makes every commit durable.
        busy_timeout: how long (seconds) to wait for another writer.
    """

    MARK = "?"
    ORDER = "rowid"

    def __init__(
        self,
        path: str | os.PathLike[str] = "cases.db",
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 10.0,
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(
                f"synchronous must be OFF/NORMAL/FULL/EXTRA, not {synchronous!r}"
            )
        self.path = os.fspath(path)
        self._lock = threading.RLock()
        self._depth = 0
        with translate_errors():
            self._db = sqlite3.connect(
                self.path,
                isolation_level=None,
                check_same_thread=False,
                timeout=busy_timeout,
            )
            self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout * 1000)}")
            if self.path != ":memory:":
                self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute(f"PRAGMA synchronous = {synchronous}")
            self._migrate()

    # -------------------------------------------------------- transactions
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (a savepoint when inside ``batch``)."""
        with self._lock, translate_errors():
            db = self._db
            outer = self._depth == 0
            if not outer and not db.in_transaction:
                raise StorageError(
                    "the batch's transaction was rolled back by an "
                    "earlier error (e.g. a full disk)"
                )
            db.execute("BEGIN IMMEDIATE" if outer else "SAVEPOINT op")
            self._depth += 1
            try:
                yield db
            except BaseException:
                self._depth -= 1
                # SQLite itself rolls back the whole transaction on some errors
                # (SQLITE_FULL, SQLITE_IOERR): then there is nothing to undo.
                if db.in_transaction:
                    db.execute("ROLLBACK" if outer else "ROLLBACK TO op")
                    if not outer:
                        db.execute("RELEASE op")
                raise
            self._depth -= 1
            if not db.in_transaction:
                raise StorageError(
                    "the transaction was rolled back by an earlier "
                    "error (e.g. a full disk); nothing was written"
                )
            db.execute("COMMIT" if outer else "RELEASE op")

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self._lock, translate_errors():
            return self._db.execute(sql, params).fetchall()

    def _migrate(self) -> None:
        with self._tx() as db:
            for statement in SCHEMA.split(";"):
                if statement.strip():
                    db.execute(statement)
            row = db.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            version = int(row[0]) if row else FORMAT_VERSION
            if version > FORMAT_VERSION:
                raise StoredFormatError(
                    f"{self.path} was written by a newer cswork (format {version}; "
                    f"this one reads up to {FORMAT_VERSION})"
                )
            for step in range(version + 1, FORMAT_VERSION + 1):
                for statement in MIGRATIONS[step].split(";"):
                    if statement.strip():
                        db.execute(statement)
            db.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?)",
                (str(FORMAT_VERSION),),
            )

    @property
    def format_version(self) -> int:
        """The stored-format version of the file."""
        return int(self._read("SELECT value FROM meta WHERE key = 'format'")[0][0])

    # ---------------------------------------------------------- definitions
    def save_definition(self, definition: StoredDefinition) -> None:  # noqa: D102
        d = definition
        with self._tx() as db:
            row = db.execute(
                "SELECT digest FROM definitions WHERE workflow_id = ? AND version = ?",
                (d.workflow_id, d.version),
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO definitions VALUES (?, ?, ?, ?)",
                    (d.workflow_id, d.version, d.digest, d.source),
                )
            elif row[0] != d.digest:
                raise DefinitionChangedError(d.workflow_id, d.version)

    def load_definition(self, workflow_id: str, version: int) -> StoredDefinition:  # noqa: D102
        rows = self._read(
            "SELECT workflow_id, version, digest, source FROM definitions"
            " WHERE workflow_id = ? AND version = ?",
            (workflow_id, version),
        )
        if not rows:
            raise UnknownWorkflowError(workflow_id, version)
        return StoredDefinition(
            **dict(
                zip(
                    ("workflow_id", "version", "digest", "source"), rows[0], strict=True
                )
            )
        )

    def list_definitions(self) -> list[StoredDefinition]:  # noqa: D102
        rows = self._read(
            "SELECT workflow_id, version, digest, source FROM definitions"
            " ORDER BY workflow_id, version"
        )
        return [
            StoredDefinition(workflow_id=r[0], version=r[1], digest=r[2], source=r[3])
            for r in rows
        ]

    # ----------------------------------------------------------------- cases
    def create_case(self, change: CaseChange) -> None:  # noqa: D102
        with self._tx() as db:
            try:
                db.execute(_INSERT_CASE, codec.case_row(change.case))
            except sqlite3.IntegrityError:
                raise ConflictError(
                    change.case.id, "a case with this id exists"
                ) from None
            self._write_rest(db, change)

    def load_case(self, case_id: str) -> Case:  # noqa: D102
        rows = self._read(f"SELECT {CASE_COLS} FROM cases WHERE id = ?", (case_id,))
        if not rows:
            raise CaseNotFoundError(case_id)
        return codec.case_from(rows[0])

    def commit(self, change: CaseChange) -> None:  # noqa: D102
        with self._tx() as db:
            self._write(db, change)

    def _write(self, db: sqlite3.Connection, change: CaseChange) -> None:
        row = codec.case_row(change.case)
        cur = db.execute(
            _UPDATE_CASE,
            (*row[3:11], row[12], change.case.id, change.expected_version),
        )
        if cur.rowcount != 1:
            found = db.execute(
                "SELECT version FROM cases WHERE id = ?", (change.case.id,)
            ).fetchone()
            if found is None:
                raise CaseNotFoundError(change.case.id)
            raise ConflictError(
                change.case.id,
                f"expected version {change.expected_version}, found {found[0]}",
            )
        self._write_rest(db, change)

    @staticmethod
    def _write_rest(db: sqlite3.Connection, change: CaseChange) -> None:
        case_id = change.case.id
        now = codec.to_us(change.case.updated_at)
        db.executemany(_INSERT_ENTRY, [codec.entry_row(e) for e in change.entries])
        if change.fired_timer:
            cur = db.execute(
                "UPDATE timers SET state = 'fired', closed_at = ?"
                " WHERE id = ? AND state = 'pending'",
                (now, change.fired_timer),
            )
            if cur.rowcount != 1:
                raise ConflictError(case_id, "the timer was already closed")
        if change.cancel:
            db.execute(
                "UPDATE timers SET state = 'cancelled', closed_at = ? WHERE case_id = ?"
                f" AND state = 'pending' AND deadline IN ({_marks(len(change.cancel))})",
                (now, case_id, *change.cancel),
            )
        if change.meet:
            db.execute(
                "UPDATE timers SET met = 1 WHERE case_id = ? AND state = 'pending'"
                f" AND kind = 'period' AND deadline IN ({_marks(len(change.meet))})",
                (case_id, *change.meet),
            )
        if change.arm:
            db.executemany(_INSERT_TIMER, [codec.timer_row(t) for t in change.arm])
        if change.outbox:
            db.executemany(_INSERT_OUTBOX, codec.outbox_rows(change))

    # ------------------------------------------------------------- deadlines
    def fire_due_timers(  # noqa: D102
        self, now: datetime, handler: TimerHandler, *, worker_id: str, limit: int = 100
    ) -> list[CaseChange]:
        with self._tx() as db:
            rows = db.execute(
                f"SELECT {TIMER_COLS} FROM timers WHERE state = 'pending'"
                " AND due_at <= ? ORDER BY due_at, rowid LIMIT ?",
                (codec.to_us(now), limit),
            ).fetchall()
            if not rows:
                return []
            timers = [codec.timer_from(r) for r in rows]
            ids = sorted({t.case_id for t in timers})
            cases = {
                r[0]: codec.case_from(r)
                for r in db.execute(
                    f"SELECT {CASE_COLS} FROM cases WHERE id IN ({_marks(len(ids))})",
                    ids,
                )
            }
            changes = handle_batch(timers, cases, handler)
            self._write_batch(db, changes)
            return changes

    def _write_batch(self, db: sqlite3.Connection, changes: list[CaseChange]) -> None:
        """Write a batch of timer changes with one statement per kind of row.

        Safe because ``handle_batch`` already dropped timers an earlier change
        of the batch cancels: every fired timer is pending, so they can all be
        marked first; cancels, meets and arms then run change by change.
        """
        updates = [(*r[3:11], r[12], c.case.id, c.expected_version)
                   for c in changes for r in [codec.case_row(c.case)]]  # fmt: skip
        if db.executemany(_UPDATE_CASE, updates).rowcount != len(updates):
            raise ConflictError(changes[0].case.id, "a case changed meanwhile")
        db.executemany(_INSERT_ENTRY, [codec.entry_row(e) for c in changes
                                       for e in c.entries])  # fmt: skip
        fired = [(codec.to_us(c.case.updated_at), c.fired_timer) for c in changes]
        done = db.executemany(
            "UPDATE timers SET state = 'fired', closed_at = ?"
            " WHERE id = ? AND state = 'pending'",
            fired,
        )
        if done.rowcount != len(fired):
            raise ConflictError(changes[0].case.id, "a timer was already closed")
        for change in changes:
            if change.cancel or change.meet or change.arm or change.outbox:
                self._write_rest(db, replace(change, entries=(), fired_timer=""))

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
        now_us = codec.to_us(now)
        with self._tx() as db:
            by_case = " AND case_id = ?" if case_id is not None else ""
            params: list[Any] = [
                now_us,
                *([case_id] if case_id is not None else []),
                limit,
            ]
            rows = db.execute(
                f"SELECT {OUTBOX_COLS} FROM outbox WHERE claim_until <= ?{by_case}"
                " ORDER BY rowid LIMIT ?",
                params,
            ).fetchall()
            if rows:
                db.execute(
                    "UPDATE outbox SET claimed_by = ?, claim_until = ?,"
                    f" attempts = attempts + 1 WHERE id IN ({_marks(len(rows))})",
                    (worker_id, codec.to_us(now + lease), *(r[0] for r in rows)),
                )
        return [codec.outbox_from(r) for r in rows]

    def ack_outbox(self, ids: Sequence[str], *, worker_id: str) -> None:  # noqa: D102
        if not ids:
            return
        with self._tx() as db:
            db.execute(
                f"DELETE FROM outbox WHERE claimed_by = ? AND id IN ({_marks(len(ids))})",
                (worker_id, *ids),
            )

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:  # noqa: D102
        with self._tx():
            yield

    def close(self) -> None:  # noqa: D102
        with self._lock, translate_errors():
            self._db.close()
