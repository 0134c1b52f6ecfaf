"""Several processes on one store: races, exactly-once timers, crashes (SIGKILL)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from cswork import Actor, ConflictError, Engine, IllegalEventError, VirtualClock
from cswork.storage import FORMAT_VERSION, SQLiteStore
from cswork.storage.url import open_store
from cswork.testing import invariants as inv

from .conftest import ROOT, WORKFLOWS, local
from .procs import QUIET

pytestmark = pytest.mark.slow
T0 = local(2026, 3, 3, 10, 0)
AGENT = Actor("a", {"cs_agent"})


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'shared.db'}"
        return
    from .storage.pg import schema_url

    with schema_url() as u:
        yield u


def proc(func: str, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.procs", func, *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def kill(p: subprocess.Popen[str]) -> None:
    """SIGKILL a process and reap it (closing its pipes)."""
    os.kill(p.pid, signal.SIGKILL)
    p.communicate(timeout=10)


def engine_at(url: str, now=T0) -> Engine:  # type: ignore[no-untyped-def]
    return Engine.from_directory(
        WORKFLOWS, store=open_store(url), clock=VirtualClock(now), notifier=QUIET
    )


def check_all(engine: Engine) -> list[str]:
    ids = [c.id for c in engine.query()]
    for cid in ids:
        inv.check_declared_state(engine, cid)
        inv.check_replay(engine, cid)
        inv.check_timers(engine, cid)
        inv.check_due_times(engine, cid)
    return ids


@pytest.mark.parametrize("pinned", [False, True], ids=["re-decided", "if-match"])
def test_two_engines_racing_on_one_case_exactly_one_wins(url: str, pinned: bool):
    """Both decide on version 1; one commits. The loser decides again on the
    case as it is now (respond is no longer allowed), or — when the caller
    pinned the version it saw — gets a conflict."""
    first, second = engine_at(url), engine_at(url)
    case = first.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "email", "question": "?"}
    )
    barrier = threading.Barrier(2)
    results: list[str] = []
    for engine in (first, second):
        real = engine.store.commit

        def commit(change, real=real, waited=set()):  # type: ignore[no-untyped-def]  # noqa: B006
            if not waited:  # both have read version 1 by now
                waited.add(True)
                barrier.wait(timeout=10)
            real(change)

        engine.store.commit = commit  # type: ignore[method-assign]

    def go(engine: Engine) -> None:
        try:
            engine.fire(
                case.id, "respond", AGENT, expected_version=1 if pinned else None
            )
            results.append("ok")
        except ConflictError:
            results.append("conflict")
        except IllegalEventError:
            results.append("refused")

    threads = [threading.Thread(target=go, args=(e,)) for e in (first, second)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == sorted(["conflict" if pinned else "refused", "ok"])
    assert [h.event for h in first.history(case.id)] == ["start", "respond"]
    inv.check_case(first, case.id)


def test_worker_processes_fire_each_timer_once_even_when_one_is_killed(url: str):
    setup = engine_at(url)
    with setup.store.batch():
        for n in range(800):
            setup.start(
                "inquiry",
                AGENT,
                {"customer_id": f"C{n}", "channel": "email", "question": "?"},
            )
    total = 1600  # each case: a warning and a deadline
    later = (T0 + timedelta(days=1)).isoformat()
    workers = [proc("fire_timers", url, later, f"w{i}") for i in range(3)]
    assert workers[0].stdout is not None
    workers[0].stdout.readline()  # it has fired its first batch
    kill(workers[0])
    for w in workers[1:]:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    leftover = engine_at(url, T0 + timedelta(days=1)).run_due()
    fired = [
        h.detail["timer"]
        for c in setup.query()
        for h in setup.history(c.id)
        if "timer" in h.detail
    ]
    assert len(fired) == total
    assert len(set(fired)) == total
    assert leftover <= 50  # at most the killed worker's unfinished batch
    assert all(not setup.timers(c.id) for c in setup.query())
    check_all(setup)


def test_a_process_killed_mid_stream_leaves_every_case_consistent(url: str):
    for attempt in range(3):
        stream = proc("stream", url, T0.isoformat(), f"s{attempt}", str(attempt))
        assert stream.stdout is not None
        for _ in range(4):
            stream.stdout.readline()
        kill(stream)
    engine = engine_at(url, T0 + timedelta(days=30))
    ids = check_all(engine)
    assert len(ids) > 20
    engine.advance(timedelta(days=1))  # the store works on, timers and all
    check_all(engine)


def test_sqlite_file_shared_by_processes_survives_a_killed_writer(tmp_path: Path):
    db = tmp_path / "s.db"
    SQLiteStore(db).close()
    stream = proc("stream", f"sqlite:///{db}", T0.isoformat(), "s", "1")
    assert stream.stdout is not None
    stream.stdout.readline()
    kill(stream)
    store = SQLiteStore(db)  # recovers the WAL; the last commit is intact or absent
    assert store.format_version == FORMAT_VERSION
    engine = Engine.from_directory(WORKFLOWS, store=store, clock=VirtualClock(T0))
    check_all(engine)


def test_random_kills_during_a_long_run_of_steps_and_timers(url: str):
    """Killed at random points again and again: every case agrees with its
    history, and every due timer fires exactly once (CSWORK_CHAOS_ROUNDS)."""
    import random
    import time

    rng = random.Random(2026)
    rounds = int(os.environ.get("CSWORK_CHAOS_ROUNDS", "6"))
    for n in range(rounds):
        start = (T0 + timedelta(hours=9 * n)).isoformat()
        p = proc("stream", url, start, f"chaos{n}", str(n))
        assert p.stdout is not None
        p.stdout.readline()  # it is running
        time.sleep(rng.uniform(0.0, 0.8))
        kill(p)
        check_all(engine_at(url, T0 + timedelta(hours=9 * n)))
    final = engine_at(url, T0 + timedelta(days=60))
    final.run_due()
    ids = check_all(final)
    fired = [
        h.detail["timer"]
        for cid in ids
        for h in final.history(cid)
        if "timer" in h.detail
    ]
    assert len(fired) == len(set(fired))
    for cid in ids:  # nothing left overdue: every due timer fired
        inv.check_timers(final, cid, final.clock.now())
