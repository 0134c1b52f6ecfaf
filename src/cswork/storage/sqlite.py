"""``SQLiteStore``: the embedded default, on the standard library's ``sqlite3``.

- WAL journal, durable commits by default (``synchronous=FULL``; ``NORMAL``
  trades the last transactions on power loss for speed, never corruption).
- Writes go through one connection, each as one ``BEGIN IMMEDIATE``
  transaction, which serialises writers across threads and processes, so
  several processes can share one file; ``busy_timeout`` makes them wait for
  each other instead of failing.
- Reads use one connection per thread, so in WAL mode a read never waits for
  a write in progress (inside ``batch()`` the batch's own thread reads
  through the writing connection, to see its own writes).
- Timers are claimed inside a write transaction, and the claim's changes are
  written in it, so each fires exactly once even with several worker
  processes (a killed worker's transaction is rolled back and its timers
  stay pending).
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, Literal

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    DefinitionChangedError,
    StorageError,
    UnknownWorkflowError,
)
from cswork.records import Case, CaseChange, OutboxItem, StoredDefinition
from cswork.storage import codec
from cswork.storage._sql import (
    CASE_COLS,
    DUE_ORDER,
    OUTBOX_COLS,
    TIMER_COLS,
    Dialect,
    SQLReads,
    Statement,
    batch_statements,
    statements,
)
from cswork.storage._sqlite_schema import migrate_sqlite
from cswork.storage.base import DueBatch, Store, check_claim, check_lease

Synchronous = Literal["OFF", "NORMAL", "FULL", "EXTRA"]

DIALECT = Dialect(mark="?", any_list=False)


@contextmanager
def translate_errors() -> Iterator[None]:
    """Turn sqlite3 exceptions into ``StorageError`` (the cause is kept)."""
    try:
        yield
    except sqlite3.Error as exc:
        raise StorageError(f"SQLite: {exc}") from exc


def _marks(n: int) -> str:
    return ", ".join("?" * n)


class SQLiteStore(SQLReads, Store):
    """A store in one SQLite file, shareable by threads and processes.

    Args:
        path: the database file (created if missing), or ``":memory:"``.
        synchronous: SQLite's ``synchronous`` level; ``FULL`` (the default)
            makes every commit durable.
        busy_timeout: how long (seconds) to wait for another writer.
        create: create the file if it does not exist; with ``False`` a
            missing file raises ``StorageError`` (read-only tools use this
            so that a mistyped path never creates an empty database).
    """

    MARK = "?"
    ORDER = "rowid"

    def __init__(
        self,
        path: str | os.PathLike[str] = "cases.db",
        *,
        synchronous: Synchronous = "FULL",
        busy_timeout: float = 10.0,
        create: bool = True,
    ) -> None:
        if synchronous not in ("OFF", "NORMAL", "FULL", "EXTRA"):
            raise ValueError(
                f"synchronous must be OFF/NORMAL/FULL/EXTRA, not {synchronous!r}"
            )
        self.path = os.fspath(path)
        self._memory = self.path == ":memory:" or self.path.startswith("file::memory:")
        if not create and not self._memory and not os.path.exists(self.path):
            raise StorageError(f"SQLite: no database file {self.path!r}")
        self._sync = synchronous
        self._timeout = busy_timeout
        self._lock = threading.RLock()
        self._owner: int | None = None  # the thread inside batch()
        self._local = threading.local()
        self._readers: list[sqlite3.Connection] = []
        self._closed = False
        with translate_errors():
            self._db = self._connect()
            if not self._memory:
                self._db.execute("PRAGMA journal_mode = WAL")
            with self._tx() as db:
                migrate_sqlite(db, self.path)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(
            self.path,
            isolation_level=None,
            check_same_thread=False,
            timeout=self._timeout,
            cached_statements=256,
        )
        db.execute(f"PRAGMA busy_timeout = {int(self._timeout * 1000)}")
        db.execute(f"PRAGMA synchronous = {self._sync}")
        return db

    # -------------------------------------------------------- transactions
    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (a savepoint when inside this thread's ``batch``).

        Safe against any exception at any point, ``KeyboardInterrupt``
        included: whatever was begun is rolled back before the lock is
        released, so neither this process nor another is left locked out. A
        transaction an interrupt left open anyway (between two bytecodes of
        this method) is rolled back by the next one.
        """
        with self._lock:
            db = self._db
            nested = self._owner == threading.get_ident()
            with translate_errors():
                if nested and not db.in_transaction:
                    raise StorageError(
                        "the batch's transaction was rolled back by an earlier "
                        "error (e.g. a full disk)"
                    )
                if not nested and db.in_transaction:
                    db.execute("ROLLBACK")  # left behind by an interrupt
            committed = False
            try:
                with translate_errors():
                    db.execute("SAVEPOINT op" if nested else "BEGIN IMMEDIATE")
                    yield db
                    if not db.in_transaction:
                        raise StorageError(
                            "the transaction was rolled back by an earlier error "
                            "(e.g. a full disk); nothing was written"
                        )
                    db.execute("RELEASE op" if nested else "COMMIT")
                    committed = True
            finally:
                if not committed:
                    self._undo(db, nested)

    @staticmethod
    def _undo(db: sqlite3.Connection, nested: bool) -> None:
        """Roll back what ``_tx`` began (also after a failed COMMIT)."""
        # SQLite itself rolls back the whole transaction on some errors
        # (SQLITE_FULL, SQLITE_IOERR): then there is nothing left to undo.
        try:
            if not db.in_transaction:
                return
            if nested:
                db.execute("ROLLBACK TO op")
                db.execute("RELEASE op")
            else:
                db.execute("ROLLBACK")
        except sqlite3.Error:
            pass  # no savepoint was made yet; the next _tx rolls back leftovers

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection (the writer's inside its own batch)."""
        if self._memory or self._owner == threading.get_ident():
            return self._db
        db: sqlite3.Connection | None = getattr(self._local, "db", None)
        if db is None:
            if self._closed:
                raise StorageError("SQLite: the store is closed")
            db = self._local.db = self._connect()
            db.execute("PRAGMA query_only = 1")
            with self._lock:
                self._readers.append(db)
        return db

    def _read(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        db = self._reader()
        if db is self._db:
            with self._lock, translate_errors():
                return self._db.execute(sql, params).fetchall()
        with translate_errors():
            return db.execute(sql, params).fetchall()

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
        r = rows[0]
        return StoredDefinition(
            workflow_id=r[0], version=r[1], digest=r[2], source=r[3]
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
            self._run(db, statements(change, DIALECT))

    def load_case(self, case_id: str) -> Case:  # noqa: D102
        rows = self._read(f"SELECT {CASE_COLS} FROM cases WHERE id = ?", (case_id,))
        if not rows:
            raise CaseNotFoundError(case_id)
        return codec.case_from(rows[0])

    def commit(self, change: CaseChange) -> None:  # noqa: D102
        with self._tx() as db:
            self._run(db, statements(change, DIALECT))

    def _run(self, db: sqlite3.Connection, stmts: list[Statement]) -> None:
        for s in stmts:
            try:
                cur = (db.executemany if s.many else db.execute)(s.sql, s.params)
            except sqlite3.IntegrityError:
                if s.kind == "create":
                    raise ConflictError(
                        s.case_id, "a case with this id exists"
                    ) from None
                raise
            if s.expect is not None and cur.rowcount != s.expect:
                raise self._failure(db, s)

    @staticmethod
    def _failure(db: sqlite3.Connection, s: Statement) -> Exception:
        if s.kind == "update":
            found = db.execute(
                "SELECT version FROM cases WHERE id = ?", (s.case_id,)
            ).fetchone()
            if found is None:
                return CaseNotFoundError(s.case_id)
            return ConflictError(s.case_id, f"found version {found[0]}")
        if s.kind == "fire":
            return ConflictError(s.case_id, "the timer was already closed")
        return ConflictError(s.case_id, "changed by another writer meanwhile")

    # ------------------------------------------------------------- deadlines
    @contextmanager
    def claim_due(  # noqa: D102
        self, now: datetime, *, worker_id: str, limit: int = 100
    ) -> Iterator[DueBatch]:
        check_claim(limit)
        with self._tx() as db:
            rows = db.execute(
                f"SELECT {TIMER_COLS} FROM timers WHERE state = 'pending'"
                f" AND due_at <= ? ORDER BY {DUE_ORDER} LIMIT ?",
                (codec.to_us(now), limit),
            ).fetchall()
            timers = [codec.timer_from(r) for r in rows]
            ids = sorted({t.case_id for t in timers})
            cases = {
                r[0]: codec.case_from(r)
                for r in db.execute(
                    f"SELECT {CASE_COLS} FROM cases WHERE id IN ({_marks(len(ids))})",
                    ids,
                )
            } if ids else {}  # fmt: skip
            yield DueBatch(
                timers, cases, lambda ch: self._run(db, batch_statements(ch, DIALECT))
            )

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
        now_us = codec.to_us(now)
        with self._tx() as db:
            by_case = " AND case_id = ?" if case_id is not None else ""
            params: list[Any] = [now_us, *([case_id] if by_case else []), limit]
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
            for start in range(0, len(ids), 500):
                chunk = list(ids[start : start + 500])
                db.execute(
                    f"DELETE FROM outbox WHERE claimed_by = ?"
                    f" AND id IN ({_marks(len(chunk))})",
                    (worker_id, *chunk),
                )

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:  # noqa: D102
        with self._tx():
            outer = self._owner is None
            self._owner = threading.get_ident()
            try:
                yield
            finally:
                if outer:
                    self._owner = None

    def close(self) -> None:  # noqa: D102
        with self._lock, translate_errors():
            self._closed = True
            for reader in self._readers:
                reader.close()
            self._readers.clear()
            self._db.close()

    def connections(self) -> list[sqlite3.Connection]:
        """The open connections (the writer first), for diagnostics and benchmarks."""
        with self._lock:
            return [self._db, *self._readers]
