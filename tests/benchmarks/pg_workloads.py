"""W4: PostgreSQL — the engine per connection beside raw psycopg, and 1/2/4 workers.

Two floors, one transaction per step each: the minimal one (versioned case
update and a history row) and the same-rows one: every row the engine writes
for the step (``steprows.record()``), by hand-written SQL on a hand-written
schema with the same keys and indexes as the SQLite floor (``floors.py``),
the step's statements sent in one pipelined round trip as the engine does.
"""

from __future__ import annotations

import itertools
import json
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from cswork.storage import PostgresStore

from .steprows import StepRows, record
from .workloads import (
    BENCH_AGENT,
    PATH,
    ROOT,
    START,
    STEPS_PER_CASE,
    T0,
    Measure,
    Row,
    _bench_dir,
    drive,
    engine_on,
    scratch,
    timed,
)

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


def _schema() -> str:
    return f"bench_{uuid.uuid4().hex[:10]}"


def _drop(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def engine_rate(dsn: str, cases: int) -> float:
    """The full engine, one transaction per step, on a fresh schema."""
    schema = _schema()
    store = PostgresStore(dsn, schema=schema, max_size=2)
    try:
        return drive(engine_on(store), cases)
    finally:
        store.close()
        _drop(dsn, schema)


def raw_rate(dsn: str, cases: int) -> float:
    """The floor: psycopg doing the same writes, one transaction per step."""
    schema = _schema()
    data = json.dumps({**START, **PATH[0][2], **PATH[1][2]})
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        conn.execute(
            "CREATE TABLE cases (id text PRIMARY KEY, state text, data text,"
            " version integer, updated_at bigint)"
        )
        conn.execute(
            "CREATE TABLE history (case_id text, seq integer, at bigint,"
            " event text, actor text, changes text, PRIMARY KEY (case_id, seq))"
        )
        began = time.perf_counter()
        for n in range(cases):
            cid = f"case-{n}"
            for seq in range(1, STEPS_PER_CASE + 1):
                with conn.transaction():
                    if seq == 1:
                        conn.execute(
                            "INSERT INTO cases VALUES (%s, 'received', %s, 1, %s)",
                            (cid, data, seq),
                        )
                    else:
                        cur = conn.execute(
                            "UPDATE cases SET state = %s, data = %s, version = %s,"
                            " updated_at = %s WHERE id = %s AND version = %s",
                            ("s", data, seq, seq, cid, seq - 1),
                        )
                        assert cur.rowcount == 1
                    conn.execute(
                        "INSERT INTO history VALUES (%s, %s, %s, %s, %s, %s)",
                        (cid, seq, seq, "e", "a", '{"k":"v"}'),
                    )
        rate = cases * STEPS_PER_CASE / (time.perf_counter() - began)
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return rate


class _SameRows:
    """Writes one step's rows by hand (psycopg); keeps the ids a program would know."""

    def __init__(self, conn: psycopg.Connection[Any]) -> None:
        self.conn = conn
        self.ids = itertools.count(1)
        self.pending: dict[str, list[int]] = {}
        self.entries: dict[str, int] = {}
        self.delivered: list[int] = []

    def step(self, cid: str, seq: int, rows: StepRows) -> None:
        """One transaction: the step's statements in one pipeline, then COMMIT."""
        with self.conn.transaction():
            with self.conn.pipeline():
                update = self._send(cid, seq, rows)
            if update is not None and update.rowcount != 1:
                raise RuntimeError(f"{cid} changed meanwhile")  # rolls back

    def _send(self, cid: str, seq: int, rows: StepRows) -> Any:
        conn, cur, at = self.conn, self.conn.cursor(), seq
        update = None
        if self.delivered:
            cur.executemany(
                "DELETE FROM outbox WHERE id = %s", [(i,) for i in self.delivered]
            )
            self.delivered = []
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


def same_rows_rate(dsn: str, cases: int, steps: list[StepRows]) -> Measure:
    """The same-rows floor: ``steps`` (one case's path) for ``cases`` cases."""
    schema = _schema()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
        conn.execute(f'SET search_path TO "{schema}"')
        for statement in SAME_ROWS_SCHEMA.split(";"):
            if statement.strip():
                conn.execute(statement)
        writer = _SameRows(conn)

        def run() -> None:
            for n in range(cases):
                for seq, rows in enumerate(steps, 1):
                    writer.step(f"case-{n}", seq, rows)
            if writer.delivered:  # the last acknowledgement
                with conn.transaction():
                    conn.cursor().executemany(
                        "DELETE FROM outbox WHERE id = %s",
                        [(i,) for i in writer.delivered],
                    )

        measure = timed(cases * len(steps), run)
        conn.execute(f'DROP SCHEMA "{schema}" CASCADE')
    return measure


WORKER = """
import sys
from datetime import datetime
from cswork import Engine, VirtualClock
from cswork.simulation import CountingNotifier
from cswork.storage import PostgresStore
dsn, schema, wf, now, name = sys.argv[1:6]
store = PostgresStore(dsn, schema=schema, max_size=1)
e = Engine.from_directory(wf, store=store, clock=VirtualClock(datetime.fromisoformat(now)),
                          notifier=CountingNotifier(), worker_id=name)
fired = 0
while True:
    n = e.run_due(limit=200)
    fired += n
    if n == 0:
        break
store.close()
print(fired)
"""


def workers_rate(dsn: str, wf_dir: Path, timers: int, workers: int) -> float:
    """Claims per second of ``workers`` processes firing ``timers`` due deadlines."""
    from datetime import timedelta

    schema = _schema()
    store = PostgresStore(dsn, schema=schema)
    engine = engine_on(store, wf_dir)
    for chunk in range(0, timers, 2000):
        with store.batch():
            for _ in range(min(2000, timers - chunk)):
                engine.start("bench", BENCH_AGENT, {"customer_id": "C"})
    store.close()
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'ANALYZE "{schema}".timers')
        conn.execute(f'ANALYZE "{schema}".cases')
    later = (T0 + timedelta(hours=2)).isoformat()
    began = time.perf_counter()
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, dsn, schema, str(wf_dir), later, f"w{i}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        for i in range(workers)
    ]
    fired = sum(int(p.communicate(timeout=900)[0].strip() or 0) for p in procs)
    elapsed = time.perf_counter() - began
    _drop(dsn, schema)
    assert fired == timers, f"{fired} fired of {timers}"
    return timers / elapsed


def w4(dsn: str, cases: int, timers: int, runs: int) -> list[Row]:
    """W4: PostgreSQL, the engine beside both floors (runs interleaved), then workers."""
    steps = record()
    seen: dict[str, list[float]] = {"engine": [], "min": [], "same": []}
    for _ in range(runs):
        seen["engine"].append(engine_rate(dsn, cases))
        seen["min"].append(raw_rate(dsn, cases))
        seen["same"].append(same_rows_rate(dsn, cases, steps).rate)
    engine, minimal, same = (statistics.median(v) for v in seen.values())
    w = "W4 PostgreSQL"
    rows = [
        Row(w, "minimal floor: raw psycopg writes/s (1 transaction each)", minimal,
            "/s"),
        Row(w, "same-rows floor: raw psycopg steps/s (the engine's rows, 1"
            " pipelined transaction each)", same, "/s"),
        Row(w, "engine steps/s per connection vs same-rows floor", engine, "×",
            floor=same, target="≥ 0.8×", ok=engine / same >= 0.8),
        Row(w, "engine steps/s per connection vs minimal floor", engine, "×",
            floor=minimal),
    ]  # fmt: skip
    with scratch() as tmp:
        wf_dir = _bench_dir(tmp, True)
        rates = {k: workers_rate(dsn, wf_dir, timers, k) for k in (1, 2, 4)}
    for k, rate in rates.items():
        rows.append(
            Row(
                "W4 PostgreSQL",
                f"claims/s, {k} worker process(es), {timers:,} due",
                rate,
                "/s",
                target="no fewer with more workers" if k > 1 else "",
                ok=None if k == 1 else rate >= rates[k // 2] * 0.95,
            )
        )
    return rows
