"""The hand-written floors and counters measure what they claim to (no speed asserted)."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from cswork.storage import MemoryStore, SQLiteStore
from tests.benchmarks import counters, floors, steprows
from tests.benchmarks.common import STEPS_PER_CASE, complaints, engine_on

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

    @contextmanager
    def probe(db: sqlite3.Connection) -> Iterator[None]:
        with counters.counting([db]) as counts:
            yield
        seen.append(counts)

    floors.minimal_sqlite(tmp_path / "a.db", 2, probe=probe)
    floors.minimal_sqlite(tmp_path / "b.db", 2, per_txn=9, probe=probe)
    assert [c.commits for c in seen] == [2 * STEPS_PER_CASE, 2]
    assert all(c.wal_frames > 0 and c.instructions > c.statements for c in seen)


def test_counters_see_the_engines_statements(tmp_path: Path):
    store = SQLiteStore(tmp_path / "e.db")
    try:
        run = complaints(engine_on(store), 1)
        with counters.counting(counters._connections(store)) as counts:
            run()
    finally:
        store.close()
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
