"""Hand-written SQLite floors for W2: the engine's writes at the least they can cost.

- The *minimal* floor: a versioned case update and one history insert per step.
- The *same-rows* floor: the rows the engine writes for each step of the
  complaint path (``steprows.record()``), written by hand-written SQL on a
  sensible hand-written schema: the case insert or versioned update, history
  rows, timer inserts, cancels and "met" marks, outbox inserts and their
  acknowledgement (the delete of the previous step's delivered items, folded
  into the next step's transaction).

The same-rows schema has the primary keys, the index a claim by due time needs
(``timers_due``: pending timers by due time) and the index a per-case lookup
of pending timers needs (``timers_of_case``); history is keyed by
(case, seq), which serves a case's history. The floor knows the ids of the
timers it armed, so it cancels them by primary key.

Each floor is an object whose ``run(cases)`` takes that many more cases along
the path, so a workload can alternate it with the engine in slices
(``common.alternate``); ``db`` is its connection (for the counters).
"""

from __future__ import annotations

import itertools
import json
import sqlite3
from pathlib import Path

from .common import PATH, START, STEPS_PER_CASE, Measure, timed
from .steprows import StepRows

MINIMAL_SCHEMA = """
CREATE TABLE cases (id TEXT PRIMARY KEY, state TEXT, data TEXT, version INTEGER,
    updated_at INTEGER);
CREATE TABLE history (case_id TEXT, seq INTEGER, at INTEGER, event TEXT, actor TEXT,
    changes TEXT, PRIMARY KEY (case_id, seq)) WITHOUT ROWID;
"""

SAME_ROWS_SCHEMA = """
CREATE TABLE cases (id TEXT PRIMARY KEY, workflow TEXT NOT NULL, state TEXT NOT NULL,
    data TEXT NOT NULL, version INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE TABLE history (case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,
    event TEXT NOT NULL, actor TEXT NOT NULL, to_state TEXT NOT NULL,
    changes TEXT NOT NULL, PRIMARY KEY (case_id, seq)) WITHOUT ROWID;
CREATE TABLE timers (id INTEGER PRIMARY KEY, case_id TEXT NOT NULL,
    deadline TEXT NOT NULL, due_at INTEGER NOT NULL, state TEXT NOT NULL,
    met INTEGER NOT NULL DEFAULT 0);
CREATE INDEX timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX timers_of_case ON timers (case_id) WHERE state = 'pending';
CREATE TABLE outbox (id INTEGER PRIMARY KEY, case_id TEXT NOT NULL,
    payload TEXT NOT NULL);
"""

HOUR_US = 3_600_000_000


def connect(path: Path, schema: str, synchronous: str = "FULL") -> sqlite3.Connection:
    """A fresh database in WAL mode with ``schema``."""
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA journal_mode = WAL")
    db.execute(f"PRAGMA synchronous = {synchronous}")
    db.executescript(schema)
    return db


class _Floor:
    """A floor on its own database: one transaction per ``per_txn`` steps."""

    def __init__(self, path: Path, schema: str, per_txn: int) -> None:
        self.db = connect(path, schema)
        self.per_txn = per_txn
        self.cases = 0  # cases taken so far
        self._pending = 0  # steps in the open transaction

    def _begin(self) -> None:
        if not self.db.in_transaction:
            self.db.execute("BEGIN IMMEDIATE")

    def _step_done(self) -> None:
        self._pending += 1
        if self._pending == self.per_txn:
            self.db.execute("COMMIT")
            self._pending = 0

    def close(self) -> None:
        """Commit what is open and close the database."""
        if self.db.in_transaction:
            self.db.execute("COMMIT")
        self.db.close()


class MinimalFloor(_Floor):
    """The minimal floor: versioned case update + history insert per step."""

    def __init__(self, path: Path, per_txn: int = 1) -> None:
        super().__init__(path, MINIMAL_SCHEMA, per_txn)
        self.data = json.dumps({**START, **PATH[0][2], **PATH[1][2]})

    def run(self, cases: int) -> None:
        """Take ``cases`` more cases along the path."""
        db = self.db
        for n in range(self.cases, self.cases + cases):
            cid = f"case-{n}"
            for seq in range(1, STEPS_PER_CASE + 1):
                self._begin()
                if seq == 1:
                    db.execute(
                        "INSERT INTO cases VALUES (?, 'received', ?, 1, ?)",
                        (cid, self.data, seq),
                    )
                else:
                    cur = db.execute(
                        "UPDATE cases SET state = ?, data = ?, version = ?,"
                        " updated_at = ? WHERE id = ? AND version = ?",
                        ("s", self.data, seq, seq, cid, seq - 1),
                    )
                    assert cur.rowcount == 1
                db.execute(
                    "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?)",
                    (cid, seq, seq, "e", "a", '{"k":"v"}'),
                )
                self._step_done()
        self.cases += cases


class SameRowsFloor(_Floor):
    """The same-rows floor: ``steps`` (one case's path, recorded) per case.

    It keeps what a hand-written program would know: the ids of the timers it
    armed (so it cancels them by primary key) and of the outbox items it
    delivered (acknowledged in the next step's transaction).
    """

    def __init__(self, path: Path, steps: list[StepRows], per_txn: int = 1) -> None:
        super().__init__(path, SAME_ROWS_SCHEMA, per_txn)
        self.steps = steps
        self.ids = itertools.count(1)
        self.pending: dict[str, list[int]] = {}  # case → pending timer ids
        self.entries: dict[str, int] = {}  # case → history rows so far
        self.delivered: list[int] = []  # outbox ids to acknowledge

    def run(self, cases: int) -> None:
        """Take ``cases`` more cases along the path."""
        for n in range(self.cases, self.cases + cases):
            for seq, rows in enumerate(self.steps, 1):
                self._begin()
                self.step(f"case-{n}", seq, rows)
                self._step_done()
        self.cases += cases

    def ack(self) -> None:
        """Acknowledge (delete) the outbox items delivered since the last write."""
        if self.delivered:
            self.db.executemany(
                "DELETE FROM outbox WHERE id = ?", [(i,) for i in self.delivered]
            )
            self.delivered = []

    def step(self, cid: str, seq: int, rows: StepRows) -> None:
        """Write step ``seq`` (1-based) of case ``cid`` inside the open transaction."""
        db, at = self.db, seq
        self.ack()
        if seq == 1:
            db.execute(
                "INSERT INTO cases VALUES (?, 'complaint', ?, ?, 1, ?)",
                (cid, rows.state, rows.data, at),
            )
            self.pending[cid] = []
        else:
            cur = db.execute(
                "UPDATE cases SET state = ?, data = ?, version = ?, updated_at = ?"
                " WHERE id = ? AND version = ?",
                (rows.state, rows.data, seq, at, cid, seq - 1),
            )
            assert cur.rowcount == 1
        first = self.entries.get(cid, 0) + 1
        self.entries[cid] = first + rows.history - 1
        db.executemany(
            "INSERT INTO history VALUES (?, ?, ?, ?, ?, ?, ?)",
            [
                (cid, n, at, rows.event, "l", rows.state, rows.changes)
                for n in range(first, first + rows.history)
            ],
        )
        pending = self.pending[cid]
        closed, self.pending[cid] = pending[: rows.closed], pending[rows.closed :]
        if closed:
            done = db.executemany(
                "UPDATE timers SET state = 'cancelled' WHERE id = ? AND state = 'pending'",
                [(i,) for i in closed],
            )
            assert done.rowcount == len(closed)
        if rows.met:
            db.executemany(
                "UPDATE timers SET met = 1 WHERE id = ?",
                [(i,) for i in self.pending[cid][: rows.met]],
            )
        if rows.armed:
            armed = [(next(self.ids), cid, d, at + HOUR_US) for d in rows.armed]
            db.executemany(
                "INSERT INTO timers (id, case_id, deadline, due_at, state)"
                " VALUES (?, ?, ?, ?, 'pending')",
                armed,
            )
            self.pending[cid].extend(t[0] for t in armed)
        if rows.outbox:
            items = [(next(self.ids), cid, rows.event) for _ in range(rows.outbox)]
            db.executemany("INSERT INTO outbox VALUES (?, ?, ?)", items)
            self.delivered = [i[0] for i in items]

    def close(self) -> None:
        """Acknowledge the last delivered items, then commit and close."""
        if self.delivered:
            self._begin()
            self.ack()
        super().close()


def minimal_sqlite(path: Path, cases: int, per_txn: int = 1) -> Measure:
    """The minimal floor for ``cases`` cases, timed."""
    floor = MinimalFloor(path, per_txn)
    try:
        return timed(cases * STEPS_PER_CASE, lambda: floor.run(cases))
    finally:
        floor.close()


def same_rows_sqlite(
    path: Path, cases: int, steps: list[StepRows], per_txn: int = 1
) -> Measure:
    """The same-rows floor for ``cases`` cases, timed."""
    floor = SameRowsFloor(path, steps, per_txn)
    try:
        return timed(cases * len(steps), lambda: floor.run(cases))
    finally:
        floor.close()
