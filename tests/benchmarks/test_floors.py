"""The hand-written floors and counters measure what they claim to (no speed asserted)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path

import pytest

from cswork.storage import MemoryStore, SQLiteStore
from tests.benchmarks import counters, floors, steprows
from tests.benchmarks.common import (
    STEPS_PER_CASE,
    alternate,
    close_store,
    complaints,
    engine_on,
)

pytestmark = pytest.mark.benchmark


def test_recorded_steps_follow_the_complaint_path():
    steps = steprows.record()
    assert [s.event for s in steps][:2] == ["start", "record"]
    assert len(steps) == STEPS_PER_CASE
    assert steps[-1].state == "closed"
    assert all(s.history >= 1 for s in steps)
    # Every timer the path arms is closed again by the time the case closes.
    assert sum(len(s.armed) for s in steps) == sum(s.closed for s in steps) > 0


def test_same_rows_floor_writes_the_rows_the_engine_writes(tmp_path: Path):
    cases = 3
    engine = engine_on(MemoryStore())
    complaints(engine, cases)()
    stored = engine.query(workflow="complaint")
    timers = [t for c in stored for t in engine.timers(c.id, pending_only=False)]
    history = sum(len(engine.history(c.id)) for c in stored)

    steps = steprows.record()
    floors.same_rows_sqlite(tmp_path / "floor.db", cases, steps, per_txn=1)
    db = sqlite3.connect(tmp_path / "floor.db")
    one = lambda sql: db.execute(sql).fetchone()[0]
    assert one("SELECT count(*) FROM cases") == len(stored) == cases
    assert one("SELECT max(version) FROM cases") == STEPS_PER_CASE
    assert one("SELECT count(*) FROM history") == history
    assert one("SELECT count(*) FROM timers") == len(timers)
    assert one("SELECT count(*) FROM timers WHERE state = 'pending'") == sum(
        t.state == "pending" for t in timers
    )
    assert one("SELECT sum(met) FROM timers") == sum(t.met for t in timers)
    # Outbox items are written and acknowledged: none is left behind.
    assert one("SELECT count(*) FROM outbox") == 0
    assert sum(s.outbox for s in steps) > 0
    db.close()


def test_floors_commit_once_per_step_or_per_batch(tmp_path: Path):
    seen: list[counters.Counts] = []
    for name, per_txn in (("a.db", 1), ("b.db", 9)):
        floor = floors.MinimalFloor(tmp_path / name, per_txn)
        with counters.counting([floor.db]) as counts:
            floor.run(1)
            floor.run(1)  # carries on with the next case
        floor.close()
        seen.append(counts)
    assert [c.commits for c in seen] == [2 * STEPS_PER_CASE, 2]
    assert all(c.wal_frames > 0 and c.instructions > c.statements for c in seen)


def test_alternate_times_every_runner_over_all_cases():
    taken: list[tuple[str, int]] = []
    runners = {name: (lambda n, name=name: taken.append((name, n))) for name in "ab"}
    got = alternate(runners, 5, 2, per_case=3)
    assert taken == [("a", 2), ("b", 2), ("b", 2), ("a", 2), ("a", 1), ("b", 1)]
    assert {name: m.steps for name, m in got.items()} == {"a": 15, "b": 15}


def test_counters_see_the_engines_statements(tmp_path: Path):
    store = SQLiteStore(tmp_path / "e.db")
    try:
        run = complaints(engine_on(store), 1)
        with counters.counting(counters._connections(store)) as counts:
            run()
    finally:
        close_store(store)
    assert counts.commits >= STEPS_PER_CASE
    assert counts.statements > 2 * STEPS_PER_CASE  # BEGIN, writes, COMMIT
    assert counts.wal_frames >= counts.commits


def test_flat_workload_toggles_one_deadline(tmp_path: Path):
    from tests.benchmarks import flatness

    engine = flatness._flat_engine(MemoryStore(), tmp_path)
    case_id = flatness._age(engine, 5)
    states = Counter(t.state for t in engine.timers(case_id, pending_only=False))
    assert states == {"cancelled": 5, "pending": 1}
    assert engine.get(case_id).state == "open"


TALLY = (
    "SELECT (SELECT count(*) FROM cases), (SELECT count(*) FROM history),"
    " (SELECT count(*) FROM timers), (SELECT count(*) FROM timers"
    " WHERE state = 'pending'), (SELECT sum(met) FROM timers),"
    " (SELECT count(*) FROM outbox)"
)


@pytest.mark.postgres
def test_pg_floors_write_what_the_sqlite_floors_write(tmp_path: Path):
    from tests.benchmarks import pg_floors
    from tests.storage import pg

    dsn = pg.server().dsn
    steps = steprows.record()
    pairs = (
        (
            floors.SameRowsFloor(tmp_path / "s.db", steps),
            pg_floors.PgSameRows(dsn, steps),
        ),
        (floors.MinimalFloor(tmp_path / "m.db"), pg_floors.PgMinimal(dsn)),
    )
    for lite, post in pairs:
        try:
            lite.run(2)
            post.run(2)
            if isinstance(lite, floors.MinimalFloor):
                lite_rows = lite.db.execute(
                    "SELECT count(*), (SELECT count(*) FROM history) FROM cases"
                ).fetchone()
                pg_rows = post.conn.execute(
                    "SELECT count(*), (SELECT count(*) FROM history) FROM cases"
                ).fetchone()
            else:
                lite_rows = lite.db.execute(TALLY).fetchone()
                pg_rows = post.conn.execute(TALLY).fetchone()
            assert tuple(lite_rows) == tuple(pg_rows)
        finally:
            lite.close()
            post.close()
