"""W4: PostgreSQL — the engine per connection beside two floors, and 1/2/4 workers.

The floors are in ``pg_floors.py`` (the minimal one, and the same-rows one
that writes every row the engine writes for a step). The engine and both
floors take turns of 50 cases (``common.alternate``), so a server or disk
that changes speed during the run slows them alike.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import psycopg

from cswork.storage import PostgresStore

from .pg_floors import PgMinimal, PgSameRows, new_schema
from .steprows import StepRows, record
from .workloads import (
    BENCH_AGENT,
    ROOT,
    STEPS_PER_CASE,
    T0,
    Measure,
    Row,
    _bench_dir,
    alternate,
    close_store,
    complaints,
    engine_on,
    scratch,
)


def _schema() -> str:
    return new_schema()


def _drop(dsn: str, schema: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def _w4_once(dsn: str, cases: int, steps: list[StepRows]) -> dict[str, Measure]:
    """One W4 run: the engine and both floors, alternated in turns of 50 cases."""
    schema = _schema()
    store = PostgresStore(dsn, schema=schema, max_size=2)
    minimal, same = PgMinimal(dsn), PgSameRows(dsn, steps)
    try:
        engine = engine_on(store)
        runners: dict[str, Callable[[int], object]] = {
            "engine": lambda n: complaints(engine, n)(),
            "minimal": minimal.run,
            "same": same.run,
        }
        return alternate(runners, cases, min(cases, 50), STEPS_PER_CASE)
    finally:
        close_store(store)
        _drop(dsn, schema)
        minimal.close()
        same.close()


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
    close_store(store)
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
    """W4: PostgreSQL, the engine beside both floors (median of runs), then workers."""
    steps = record()
    seen = [_w4_once(dsn, cases, steps) for _ in range(runs)]
    engine, minimal, same = (
        statistics.median(run[name].rate for run in seen)
        for name in ("engine", "minimal", "same")
    )
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
