"""W4: PostgreSQL — the engine per connection beside raw psycopg, and 1/2/4 workers."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from pathlib import Path

import psycopg

from cswork.storage import PostgresStore

from .workloads import (
    BENCH_AGENT,
    PATH,
    ROOT,
    START,
    STEPS_PER_CASE,
    T0,
    Row,
    _bench_dir,
    drive,
    engine_on,
    median_of,
    scratch,
)


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
    """W4: PostgreSQL."""
    engine = median_of(runs, lambda: engine_rate(dsn, cases))
    floor = median_of(runs, lambda: raw_rate(dsn, cases))
    rows = [
        Row("W4 PostgreSQL", "raw psycopg writes/s (1 transaction each)", floor, "/s"),
        Row(
            "W4 PostgreSQL",
            "engine steps/s per connection",
            engine,
            "×",
            floor=floor,
            target="≥ 0.8× raw",
            ok=engine / floor >= 0.8,
        ),
    ]
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
