"""The real worker: APScheduler wakes the engine on the wall clock."""

from __future__ import annotations

import time
from datetime import timedelta
from pathlib import Path

import pytest

from cswork import Actor, ClockError, Engine, SystemClock, VirtualClock
from cswork.definition import load_text
from cswork.scheduler import Worker
from cswork.storage import SQLiteStore

FAST = """\
workflow: fast
version: 1
title: Short deadlines for the worker test
roles: {agent: a}
fields: {customer_id: {type: string}}
states:
  open: {initial: true}
  done: {final: true}
start: {roles: [agent], requires: [customer_id]}
transitions:
  - {event: finish, from: open, to: done, roles: [agent]}
deadlines:
  quick:
    scope: [open]
    after: 1s
    basis: wall
    warn: {percent: 50, notify: [agent]}
    on_due: [{notify: [agent]}]
  slow:
    scope: [open]
    after: 3s
    basis: wall
"""
A = Actor("a", {"agent"})
pytestmark = pytest.mark.slow


def engine_on(path: Path) -> Engine:
    return Engine([load_text(FAST)], store=SQLiteStore(path), clock=SystemClock())  # type: ignore[list-item]


def wait_for(predicate, timeout: float = 10.0) -> None:  # type: ignore[no-untyped-def]
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError("timed out")
        time.sleep(0.05)


def test_worker_fires_each_timer_once_at_its_due_time(tmp_path: Path):
    engine = engine_on(tmp_path / "w.db")
    worker = Worker(engine, poll_interval=60)  # only the wake-up job can be in time
    worker.start()
    try:
        cases = [engine.start("fast", A, {"customer_id": str(i)}) for i in range(3)]
        engine.fire(cases[2].id, "finish", A)  # leaves the scope: its timers cancel
        wait_for(lambda: worker.fired >= 4)
        time.sleep(3.0)  # the slow deadlines come due too
    finally:
        worker.stop()
    for case in cases[:2]:
        timers = engine.timers(case.id, pending_only=False)
        assert sorted((t.deadline, t.kind, t.state) for t in timers) == [
            ("quick", "due", "fired"),
            ("quick", "warn", "fired"),
            ("slow", "due", "fired"),
        ]
        for t in timers:
            assert t.closed_at is not None
            assert t.due_at <= t.closed_at < t.due_at + timedelta(seconds=1.5)
        kinds = [h.kind for h in engine.history(case.id)]
        assert kinds.count("deadline") == 2
        assert kinds.count("warning") == 1
    assert {t.state for t in engine.timers(cases[2].id, pending_only=False)} == {
        "cancelled"
    }
    assert worker.fired == 6
    assert worker.errors == 0


def test_deadlines_missed_while_no_worker_ran_fire_once_on_start(tmp_path: Path):
    engine = engine_on(tmp_path / "w.db")
    case = engine.start("fast", A, {"customer_id": "C"})
    time.sleep(1.2)  # nobody is running: "quick" falls due unattended
    engine.store.close()
    engine = engine_on(tmp_path / "w.db")  # a new process, later
    worker = Worker(engine, poll_interval=60)
    worker.start()
    try:
        wait_for(lambda: worker.fired >= 2)
        time.sleep(0.3)
    finally:
        worker.stop()
    fired = [
        t for t in engine.timers(case.id, pending_only=False) if t.state == "fired"
    ]
    assert sorted((t.deadline, t.kind) for t in fired) == [
        ("quick", "due"),
        ("quick", "warn"),
    ]


def test_two_workers_on_one_file_fire_each_timer_once(tmp_path: Path):
    engines = [engine_on(tmp_path / "w.db") for _ in range(2)]
    workers = [Worker(e, poll_interval=0.2) for e in engines]
    for w in workers:
        w.start()
    try:
        cases = [
            engines[i % 2].start("fast", A, {"customer_id": str(i)}) for i in range(20)
        ]
        wait_for(lambda: sum(w.fired for w in workers) >= 60, timeout=15)
        time.sleep(0.5)
    finally:
        for w in workers:
            w.stop()
    assert sum(w.fired for w in workers) == 60
    for case in cases:
        entries = engines[0].history(case.id)
        assert sum(h.kind in ("deadline", "warning") for h in entries) == 3


def test_worker_needs_the_real_clock():
    engine = Engine([load_text(FAST)], clock=VirtualClock(SystemClock().now()))  # type: ignore[list-item]
    with pytest.raises(ClockError):
        Worker(engine)
