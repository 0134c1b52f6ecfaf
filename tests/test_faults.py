"""Faults: the database refuses or goes away, the clock misbehaves."""

from __future__ import annotations

import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from cswork import Actor, Engine, StorageError, VirtualClock
from cswork.storage import SQLiteStore
from cswork.testing.invariants import check_case, snapshot

from .conftest import WORKFLOWS, local

AGENT = Actor("a", {"cs_agent"})
INQUIRY = {"customer_id": "C", "channel": "email", "question": "?"}


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "faults.db"


def sqlite_code(err: pytest.ExceptionInfo[StorageError]) -> int:
    """The primary SQLite result code of the driver error behind a StorageError
    (its message is SQLite's wording, which changes between SQLite versions)."""
    cause = err.value.__cause__
    assert isinstance(cause, sqlite3.Error), repr(cause)
    return cause.sqlite_errorcode & 0xFF  # extended codes carry it in the low byte


def engine_on(path: Path, clock: object = None, **kw: object) -> Engine:
    return Engine.from_directory(
        WORKFLOWS,
        store=SQLiteStore(path, **kw),  # type: ignore[arg-type]
        clock=clock or VirtualClock(local(2026, 3, 3, 10, 0)),
    )


def test_a_locked_database_gives_a_clear_error_and_works_after(db: Path):
    engine = engine_on(db, busy_timeout=0.3)
    case = engine.start("inquiry", AGENT, INQUIRY)
    before = snapshot(engine, case.id)
    blocker = sqlite3.connect(db, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    with pytest.raises(StorageError) as err:
        engine.fire(case.id, "respond", AGENT)
    assert sqlite_code(err) == sqlite3.SQLITE_BUSY
    assert snapshot(engine, case.id) == before
    blocker.execute("ROLLBACK")
    blocker.close()
    engine.fire(case.id, "respond", AGENT)
    check_case(engine, case.id)


def test_a_read_only_database_refuses_writes_cleanly(db: Path):
    engine = engine_on(db)
    case = engine.start("inquiry", AGENT, INQUIRY)
    before = snapshot(engine, case.id)
    engine.store._db.execute("PRAGMA query_only = ON")  # type: ignore[attr-defined]
    with pytest.raises(StorageError) as err:
        engine.fire(case.id, "respond", AGENT)
    assert sqlite_code(err) == sqlite3.SQLITE_READONLY
    assert snapshot(engine, case.id) == before
    engine.store._db.execute("PRAGMA query_only = OFF")  # type: ignore[attr-defined]
    engine.fire(case.id, "respond", AGENT)
    check_case(engine, case.id)


def test_a_full_disk_leaves_no_half_applied_step(db: Path):
    engine = engine_on(db)
    cases = [engine.start("inquiry", AGENT, INQUIRY) for _ in range(3)]
    raw = engine.store._db  # type: ignore[attr-defined]
    pages = raw.execute("PRAGMA page_count").fetchone()[0]
    raw.execute(f"PRAGMA max_page_count = {pages}")  # the disk is full now
    failures = 0
    for _ in range(200):  # keep writing until a step does not fit
        try:
            engine.start("inquiry", AGENT, {**INQUIRY, "question": "x" * 1500})
        except StorageError as err:
            assert isinstance(err.__cause__, sqlite3.Error), repr(err.__cause__)
            assert err.__cause__.sqlite_errorcode & 0xFF == sqlite3.SQLITE_FULL
            failures += 1
            break
    assert failures == 1
    for case in engine.query():
        check_case(engine, case.id)
    raw.execute("PRAGMA max_page_count = 1073741823")  # space again
    engine.fire(cases[0].id, "respond", AGENT)
    check_case(engine, cases[0].id)


class JumpingClock:
    """A 'real' clock that the test moves anywhere, backwards too."""

    is_virtual = False

    def __init__(self, t: datetime) -> None:
        self.t = t

    def now(self) -> datetime:
        return self.t


def test_a_clock_that_jumps_back_and_forth_breaks_no_invariant(db: Path):
    t0 = local(2026, 3, 3, 10, 0)
    clock = JumpingClock(t0)
    engine = engine_on(db, clock=clock)
    case = engine.start("inquiry", AGENT, INQUIRY)  # first reply due 11:00
    assert engine.run_due() == 0
    clock.t = t0 - timedelta(hours=3)  # the clock goes back
    assert engine.run_due() == 0  # nothing is due
    engine.fire(case.id, "respond", AGENT)  # a step "before" the start: recorded as is
    engine.fire(case.id, "answer", AGENT, {"answer": "a", "advice": "b"})
    engine.fire(case.id, "close", AGENT)
    clock.t = t0 + timedelta(days=2)  # and jumps far forward
    assert engine.run_due() == 0  # the response and the close cancelled the deadlines
    other = engine.start("inquiry", AGENT, INQUIRY)
    clock.t = t0 - timedelta(days=1)
    assert engine.run_due() == 0
    clock.t = t0 + timedelta(days=5)
    assert engine.run_due() == 2  # warning and breach of the other case, once
    assert engine.run_due() == 0  # never twice
    timers = engine.timers(other.id, pending_only=False)
    assert [(t.kind, t.state) for t in timers] == [
        ("warn", "fired"),
        ("due", "fired"),
    ], timers
    assert all(t.closed_at is not None and t.closed_at >= t.due_at for t in timers), (
        timers
    )
    assert {t.state for t in engine.timers(case.id, pending_only=False)} == {
        "cancelled"
    }
    check_case(engine, case.id)
    check_case(engine, other.id)
