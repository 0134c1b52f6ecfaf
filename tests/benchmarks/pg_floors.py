"""Hand-written psycopg floors for W4, the PostgreSQL twins of ``floors.py``.

- ``PgMinimal``: a versioned case update and one history row per step, one
  transaction each (BEGIN, two statements, COMMIT).
- ``PgSameRows``: every row the engine writes for the step
  (``steprows.record()``) on the same hand-written schema as the SQLite floor
  (primary keys, ``timers_due`` for the claim by due time, ``timers_of_case``
  for a case's pending timers, history keyed by (case, seq)); the step's
  statements go in one pipelined round trip inside its transaction, as the
  engine's do, and the version check is read before COMMIT.

Each floor lives in a fresh schema of its own, dropped by ``close()``;
``run(cases)`` takes that many more cases along the path.
"""

from __future__ import annotations

import itertools
import json
import uuid
from typing import Any

import psycopg

from .common import PATH, START, STEPS_PER_CASE
from .steprows import StepRows

MINIMAL_SCHEMA = """
CREATE TABLE cases (id text PRIMARY KEY, state text, data text, version integer,
    updated_at bigint);
CREATE TABLE history (case_id text, seq integer, at bigint, event text, actor text,
    changes text, PRIMARY KEY (case_id, seq));
"""
SAME_ROWS_SCHEMA = """
CREATE TABLE cases (id text PRIMARY KEY, workflow text NOT NULL, state text NOT NULL,
    data text NOT NULL, version integer NOT NULL, updated_at bigint NOT NULL);
CREATE TABLE history (case_id text NOT NULL, seq integer NOT NULL, at bigint NOT NULL,
    event text NOT NULL, actor text NOT NULL, to_state text NOT NULL,
    changes text NOT NULL, PRIMARY KEY (case_id, seq));
CREATE TABLE timers (id bigint PRIMARY KEY, case_id text NOT NULL,
    deadline text NOT NULL, due_at bigint NOT NULL, state text NOT NULL,
    met smallint NOT NULL DEFAULT 0);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX timers_of_case ON timers (case_id) WHERE state = 'pending';
CREATE TABLE outbox (id bigint PRIMARY KEY, case_id text NOT NULL,
    payload text NOT NULL);
"""
HOUR_US = 3_600_000_000


def new_schema() -> str:
    """A fresh schema name for one measurement."""
    return f"bench_{uuid.uuid4().hex[:10]}"


class _PgFloor:
    """A floor on its own connection and schema."""

    def __init__(self, dsn: str, schema_sql: str) -> None:
        self.schema = new_schema()
        self.conn = psycopg.connect(dsn, autocommit=True)
        self.conn.execute(f'CREATE SCHEMA "{self.schema}"')
        self.conn.execute(f'SET search_path TO "{self.schema}"')
        for statement in schema_sql.split(";"):
            if statement.strip():
                self.conn.execute(statement)
        self.cases = 0

    def close(self) -> None:
        """Drop the schema and close the connection."""
        self.conn.execute(f'DROP SCHEMA "{self.schema}" CASCADE')
        self.conn.close()


class PgMinimal(_PgFloor):
    """The minimal floor: versioned case update + history insert per step."""

    def __init__(self, dsn: str) -> None:
        super().__init__(dsn, MINIMAL_SCHEMA)
        self.data = json.dumps({**START, **PATH[0][2], **PATH[1][2]})

    def run(self, cases: int) -> None:
        """Take ``cases`` more cases along the path."""
        conn = self.conn
        for n in range(self.cases, self.cases + cases):
            cid = f"case-{n}"
            for seq in range(1, STEPS_PER_CASE + 1):
                with conn.transaction():
                    if seq == 1:
                        conn.execute(
                            "INSERT INTO cases VALUES (%s, 'received', %s, 1, %s)",
                            (cid, self.data, seq),
                        )
                    else:
                        cur = conn.execute(
                            "UPDATE cases SET state = %s, data = %s, version = %s,"
                            " updated_at = %s WHERE id = %s AND version = %s",
                            ("s", self.data, seq, seq, cid, seq - 1),
                        )
                        assert cur.rowcount == 1
                    conn.execute(
                        "INSERT INTO history VALUES (%s, %s, %s, %s, %s, %s)",
                        (cid, seq, seq, "e", "a", '{"k":"v"}'),
                    )
        self.cases += cases


class PgSameRows(_PgFloor):
    """The same-rows floor; keeps the timer and outbox ids a program would know."""

    def __init__(self, dsn: str, steps: list[StepRows]) -> None:
        super().__init__(dsn, SAME_ROWS_SCHEMA)
        self.steps = steps
        self.ids = itertools.count(1)
        self.pending: dict[str, list[int]] = {}
        self.entries: dict[str, int] = {}
        self.delivered: list[int] = []

    def run(self, cases: int) -> None:
        """Take ``cases`` more cases along the path."""
        for n in range(self.cases, self.cases + cases):
            for seq, rows in enumerate(self.steps, 1):
                self.step(f"case-{n}", seq, rows)
        self.cases += cases

    def step(self, cid: str, seq: int, rows: StepRows) -> None:
        """One transaction: the step's statements in one pipeline, then COMMIT."""
        with self.conn.transaction():
            with self.conn.pipeline():
                update = self._send(cid, seq, rows)
            if update is not None and update.rowcount != 1:
                raise RuntimeError(f"{cid} changed meanwhile")  # rolls back

    def _ack(self, cur: Any) -> None:
        if self.delivered:
            cur.executemany(
                "DELETE FROM outbox WHERE id = %s", [(i,) for i in self.delivered]
            )
            self.delivered = []

    def _send(self, cid: str, seq: int, rows: StepRows) -> Any:
        conn, cur, at = self.conn, self.conn.cursor(), seq
        update = None
        self._ack(cur)
        if seq == 1:
            cur.execute(
                "INSERT INTO cases VALUES (%s, 'complaint', %s, %s, 1, %s)",
                (cid, rows.state, rows.data, at),
            )
            self.pending[cid] = []
        else:
            update = conn.execute(
                "UPDATE cases SET state = %s, data = %s, version = %s,"
                " updated_at = %s WHERE id = %s AND version = %s",
                (rows.state, rows.data, seq, at, cid, seq - 1),
            )
        first = self.entries.get(cid, 0) + 1
        self.entries[cid] = first + rows.history - 1
        cur.executemany(
            "INSERT INTO history VALUES (%s, %s, %s, %s, %s, %s, %s)",
            [
                (cid, n, at, rows.event, "l", rows.state, rows.changes)
                for n in range(first, first + rows.history)
            ],
        )
        pending = self.pending[cid]
        closed, self.pending[cid] = pending[: rows.closed], pending[rows.closed :]
        if closed:
            cur.executemany(
                "UPDATE timers SET state = 'cancelled'"
                " WHERE id = %s AND state = 'pending'",
                [(i,) for i in closed],
            )
        if rows.met:
            cur.executemany(
                "UPDATE timers SET met = 1 WHERE id = %s",
                [(i,) for i in self.pending[cid][: rows.met]],
            )
        if rows.armed:
            armed = [(next(self.ids), cid, d, at + HOUR_US) for d in rows.armed]
            cur.executemany(
                "INSERT INTO timers (id, case_id, deadline, due_at, state)"
                " VALUES (%s, %s, %s, %s, 'pending')",
                armed,
            )
            self.pending[cid].extend(t[0] for t in armed)
        if rows.outbox:
            items = [(next(self.ids), cid, rows.event) for _ in range(rows.outbox)]
            cur.executemany("INSERT INTO outbox VALUES (%s, %s, %s)", items)
            self.delivered = [i[0] for i in items]
        return update

    def close(self) -> None:
        """Acknowledge the last delivered items, then drop the schema."""
        with self.conn.transaction():
            self._ack(self.conn.cursor())
        super().close()
