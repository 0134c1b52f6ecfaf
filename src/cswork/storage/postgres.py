"""``PostgresStore``: many engine processes on one PostgreSQL database.

- Each method is one transaction on a pooled connection (pinged only after
  it sat idle); a step's writes (the statements of ``storage/_sql.py``) go in
  one pipelined round trip. ``batch()`` holds one connection and runs inner
  operations in savepoints.
- Due timers are claimed with ``FOR UPDATE OF c, t SKIP LOCKED`` and fired in
  the claiming transaction: exactly once across workers, never waiting for a
  case that a concurrent ``commit`` holds.
- An exception at any point (``KeyboardInterrupt`` included) rolls back the
  transaction; a connection caught mid-query is discarded by the pool.
- Arming timers sends ``NOTIFY cswork_timers``; ``listen()`` turns it into calls.
- The timers table is a queue: ``ANALYZE timers`` after bulk loads.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Any, TypeAlias

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    DefinitionChangedError,
    StorageError,
    UnknownWorkflowError,
)
from cswork.records import Case, CaseChange, OutboxItem, StoredDefinition
from cswork.storage import codec
from cswork.storage._pg_listen import Listener
from cswork.storage._pg_pool import Pool, PoolTimeoutError
from cswork.storage._pg_schema import migrate
from cswork.storage._pg_sql import (
    CLAIM,
    DEF_COLS,
    DEF_NAMES,
    DIALECT,
    N_TIMER,
)
from cswork.storage._sql import (
    CASE_COLS,
    OUTBOX_COLS,
    SQLReads,
    Statement,
    batch_statements,
    statements,
)
from cswork.storage.base import (
    DueBatch,
    Store,
    check_claim,
    check_lease,
)

try:
    import psycopg
    from psycopg import errors as pg_errors
    from psycopg import sql
    from psycopg.conninfo import conninfo_to_dict
    from psycopg.rows import TupleRow
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise StorageError(
        "PostgresStore needs psycopg: pip install 'cswork[postgres]'"
    ) from exc

Conn: TypeAlias = "psycopg.Connection[TupleRow]"
CHECK_AFTER_IDLE = 2.0  # seconds

#: The channel of the notifications sent when timers are armed.
CHANNEL = "cswork_timers"

_SCHEMA_NAME = re.compile(r"[a-z_][a-z0-9_]{0,62}")
logger = logging.getLogger(__name__)


@contextmanager
def translate_errors(case_id: str = "") -> Iterator[None]:
    """Turn psycopg exceptions into cswork errors (the cause is kept)."""
    try:
        yield
    except (pg_errors.SerializationFailure, pg_errors.DeadlockDetected) as exc:
        raise ConflictError(case_id, f"PostgreSQL: {exc}") from exc
    except pg_errors.UniqueViolation as exc:
        if not case_id:
            raise StorageError(f"PostgreSQL: {exc}") from exc
        # A pipelined step's history row collided with a concurrent writer's:
        # the same lost race as a version mismatch.
        raise ConflictError(case_id, "changed by another writer meanwhile") from exc
    except PoolTimeoutError as exc:
        raise StorageError(f"PostgreSQL: {exc}; is the server up?") from exc
    except psycopg.Error as exc:
        raise StorageError(f"PostgreSQL: {exc}") from exc


class PostgresStore(SQLReads, Store):
    """A store in a PostgreSQL database, shared by any number of processes.

    Args:
        dsn: a libpq connection string or URL (``postgresql://u@host/db``).
        schema: keep the tables in this schema (created if missing) instead of
            the connection's default one; lower-case letters, digits and ``_``.
        min_size: connections opened at start (more are opened on demand).
        max_size: the most connections open at once.
        synchronous_commit: ``False`` trades the last transactions on a server
            crash for speed (``synchronous_commit = off``; never corruption).
        connect_timeout: seconds to wait for a connection (at start, and for
            each operation while the server is unreachable).

    Raises:
        StorageError: the server cannot be reached or the DSN is invalid.
        StoredFormatError: the tables were written by a newer cswork.
    """

    MARK = "%s"
    DATA_EQUALS = "(data::jsonb -> {mark}) = to_jsonb({mark}::text)"
    ORDER = "seq"
    OUTBOX_ORDER = "seq"

    def __init__(
        self,
        dsn: str,
        *,
        schema: str | None = None,
        min_size: int = 1,
        max_size: int = 8,
        synchronous_commit: bool = True,
        connect_timeout: float = 10,
    ) -> None:
        if schema is not None and not _SCHEMA_NAME.fullmatch(schema):
            raise ValueError(f"schema must match {_SCHEMA_NAME.pattern}: {schema!r}")
        self.schema = schema
        self._dsn = dsn
        self._sync = synchronous_commit
        self._timeout = connect_timeout
        self._local = threading.local()
        self._last_used: dict[int, float] = {}
        self._listeners: set[Callable[[], None]] = set()
        with translate_errors():
            conninfo_to_dict(dsn)  # a malformed DSN fails here, not in the pool
            self._pool = Pool(
                self._connect, max_size=max(1, max_size), timeout=connect_timeout,
                check=self._check,
            )  # fmt: skip
            first = self._pool.take()
            try:
                self._migrate(first)
                extra = [self._pool.take() for _ in range(max(0, min_size - 1))]
            except BaseException:
                self._pool.discard(first)
                self._pool.close()
                raise
            for conn in [first, *extra]:
                self._pool.give_back(conn)

    # -------------------------------------------------------- connections
    def _check(self, conn: Conn) -> None:
        """The pool's check: ping a connection that has been idle for a while.

        A connection used a moment ago is very likely fine, and pinging every
        checkout costs a round trip per call. One broken by a server restart
        while busy fails that call with ``StorageError`` and is discarded.
        """
        if time.monotonic() - self._last_used.get(id(conn), 0.0) > CHECK_AFTER_IDLE:
            conn.execute("SELECT 1")

    def _connect_args(self) -> dict[str, Any]:
        return {"autocommit": True, "connect_timeout": max(2, round(self._timeout))}

    def _connect(self, *, listen: bool = False) -> Conn:
        conn = psycopg.connect(self._dsn, **self._connect_args())
        if listen:
            conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(CHANNEL)))
        else:
            self._configure(conn)
        return conn

    def _configure(self, conn: Conn) -> None:
        if self.schema is not None:
            conn.execute("SELECT set_config('search_path', %s, false)", (self.schema,))
        if not self._sync:
            conn.execute("SET synchronous_commit = off")

    def _migrate(self, conn: Conn) -> None:
        migrate(conn, self.schema)

    @contextmanager
    def _conn(self) -> Iterator[Conn]:
        """The connection of this thread's ``batch``, or one from the pool.

        An exception that is not an ``Exception`` (``KeyboardInterrupt``, a
        signal-based request timeout) may arrive anywhere — in the middle of
        a pipeline, say — and leave the connection mid-transaction: such a
        connection is closed, so the server rolls back and releases its locks
        at once, and the pool replaces it.
        """
        held: Conn | None = getattr(self._local, "conn", None)
        if held is not None:
            yield held
            return
        conn = self._pool.take()
        try:
            yield conn
        except Exception:
            self._give_back(conn)
            raise
        except BaseException:
            self._pool.discard(conn)
            raise
        else:
            self._give_back(conn)

    def _give_back(self, conn: Conn) -> None:
        self._last_used[id(conn)] = time.monotonic()
        self._pool.give_back(conn)

    @contextmanager
    def _tx(self, case_id: str = "") -> Iterator[Conn]:
        """One transaction (a savepoint when inside ``batch``)."""
        with translate_errors(case_id), self._conn() as conn, conn.transaction():
            yield conn

    def _read(self, query: str, params: Sequence[Any] = ()) -> list[TupleRow]:
        with translate_errors(), self._conn() as conn:
            return conn.execute(query, params).fetchall()

    @property
    def format_version(self) -> int:
        """The stored-format version of the tables."""
        return int(self._read("SELECT value FROM meta WHERE key = 'format'")[0][0])

    # ---------------------------------------------------------- definitions
    def save_definition(self, definition: StoredDefinition) -> None:  # noqa: D102
        d = definition
        with self._tx() as conn:
            conn.execute(
                "INSERT INTO definitions VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (d.workflow_id, d.version, d.digest, d.source),
            )
            row = conn.execute(
                "SELECT digest FROM definitions WHERE workflow_id = %s AND version = %s",
                (d.workflow_id, d.version),
            ).fetchone()
            if row is None or row[0] != d.digest:
                raise DefinitionChangedError(d.workflow_id, d.version)

    def load_definition(self, workflow_id: str, version: int) -> StoredDefinition:  # noqa: D102
        clause = " WHERE workflow_id = %s AND version = %s"
        found = self._definitions(clause, (workflow_id, version))
        if not found:
            raise UnknownWorkflowError(workflow_id, version)
        return found[0]

    def list_definitions(self) -> list[StoredDefinition]:  # noqa: D102
        return self._definitions(" ORDER BY workflow_id, version")

    def _definitions(
        self, rest: str, params: Sequence[Any] = ()
    ) -> list[StoredDefinition]:
        rows = self._read(f"SELECT {DEF_COLS} FROM definitions{rest}", params)
        return [StoredDefinition(**dict(zip(DEF_NAMES, r, strict=True))) for r in rows]

    # ----------------------------------------------------------------- cases
    def create_case(self, change: CaseChange) -> None:  # noqa: D102
        with self._tx(change.case.id) as conn:
            self._run(conn, statements(change, DIALECT), [change])

    def load_case(self, case_id: str) -> Case:  # noqa: D102
        rows = self._read(f"SELECT {CASE_COLS} FROM cases WHERE id = %s", (case_id,))
        if not rows:
            raise CaseNotFoundError(case_id)
        return codec.case_from(rows[0])

    def commit(self, change: CaseChange) -> None:  # noqa: D102
        with self._tx(change.case.id) as conn:
            self._run(conn, statements(change, DIALECT), [change])

    def _run(
        self, conn: Conn, stmts: list[Statement], changes: Sequence[CaseChange]
    ) -> None:
        """Send every statement in one pipelined round trip, then check row counts.

        A wrong count raises, which rolls the transaction back.
        """
        sent: list[tuple[Statement, Any]] = []
        with conn.pipeline():
            for s in stmts:
                cur = conn.cursor()
                if s.many:
                    cur.executemany(s.sql, s.params)
                else:
                    cur.execute(s.sql, s.params)
                sent.append((s, cur))
            dues = [t.due_at for c in changes for t in c.all_armed()]
            if dues:
                earliest = codec.to_us(min(dues))
                conn.execute("SELECT pg_notify(%s, %s)", (CHANNEL, str(earliest)))
        for s, cur in sent:
            if s.expect is not None and cur.rowcount != s.expect:
                raise self._failure(conn, s)

    @staticmethod
    def _failure(conn: Conn, s: Statement) -> Exception:
        if s.kind == "create":
            return ConflictError(s.case_id, "a case with this id exists")
        if s.kind == "update":
            found = conn.execute(
                "SELECT version FROM cases WHERE id = %s", (s.case_id,)
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
        with self._tx() as conn:
            rows = conn.execute(CLAIM, (codec.to_us(now), limit)).fetchall()
            timers = [codec.timer_from(r[:N_TIMER]) for r in rows]
            cases = {r[N_TIMER]: codec.case_from(r[N_TIMER:]) for r in rows}

            def write(changes: Sequence[CaseChange]) -> None:
                self._run(conn, batch_statements(changes, DIALECT), changes)

            yield DueBatch(timers, cases, write)

    def listen(self, callback: Callable[[datetime], None]) -> Callable[[], None]:
        """Call ``callback(due_at)`` each time a transaction arms timers.

        ``due_at`` is the earliest due time the transaction armed. A daemon
        thread with its own connection listens and reconnects after errors;
        notifications sent meanwhile are lost, so keep a safety poll. The
        channel is database-wide (stores on other schemas notify it too).

        Returns:
            A function that stops the thread (``close()`` stops it too).

        Raises:
            StorageError: the listening connection could not be opened.
        """
        with translate_errors():
            conn = self._connect(listen=True)
        listener = Listener(conn, lambda: self._connect(listen=True), callback)
        stop = listener.start()

        def stopper() -> None:
            stop()
            self._listeners.discard(stopper)

        self._listeners.add(stopper)
        return stopper

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
        by_case = " AND case_id = %s" if case_id is not None else ""
        params: list[Any] = [codec.to_us(now), *([case_id] if by_case else []), limit]
        with self._tx() as conn:
            rows = conn.execute(
                f"SELECT {OUTBOX_COLS} FROM outbox WHERE claim_until <= %s{by_case}"
                " ORDER BY seq LIMIT %s FOR UPDATE SKIP LOCKED",
                params,
            ).fetchall()
            if rows:
                conn.execute(
                    "UPDATE outbox SET claimed_by = %s, claim_until = %s,"
                    " attempts = attempts + 1 WHERE id = ANY(%s)",
                    (worker_id, codec.to_us(now + lease), [r[0] for r in rows]),
                )
        return [codec.outbox_from(r) for r in rows]

    def ack_outbox(self, ids: Sequence[str], *, worker_id: str) -> None:  # noqa: D102
        if not ids:
            return
        with self._tx() as conn:
            conn.execute(
                "DELETE FROM outbox WHERE claimed_by = %s AND id = ANY(%s)",
                (worker_id, list(ids)),
            )

    # ------------------------------------------------------------- lifecycle
    @contextmanager
    def batch(self) -> Iterator[None]:  # noqa: D102
        with self._tx() as conn:
            outer = getattr(self._local, "conn", None) is None
            self._local.conn = conn
            try:
                yield
            finally:
                if outer:
                    self._local.conn = None

    def close(self) -> None:  # noqa: D102
        for stop in list(self._listeners):
            stop()
        with translate_errors():
            self._pool.close()
