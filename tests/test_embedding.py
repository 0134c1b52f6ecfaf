"""What a service relies on from the rebuilt engine and store (issue 21, items 1–8)."""

from __future__ import annotations

import logging
import threading
import time
from datetime import datetime

import pytest

from cswork import ConflictError, Engine, LoggingNotifier, StorageError
from cswork.storage import SQLiteStore
from tests.procs import WorkdayClock

from .conftest import AGENT, LEAD, WORKFLOWS

ASK = {"customer_id": "C", "channel": "chat", "question": "?"}


def test_reads_do_not_wait_for_a_write_in_progress(tmp_path):
    """WAL and a read connection per thread: a held write lock blocks no reader."""
    path = tmp_path / "c.db"
    store = SQLiteStore(path, busy_timeout=10)
    engine = Engine.from_directory(WORKFLOWS, store=store)
    case = engine.start("inquiry", AGENT, ASK)
    writer = SQLiteStore(path)
    got = []
    with writer.batch():  # another connection holds the write lock
        reader = threading.Thread(target=lambda: got.append(engine.get(case.id)))
        began = time.perf_counter()
        reader.start()
        reader.join(5)
        waited = time.perf_counter() - began
    assert [c.id for c in got] == [case.id]
    assert waited < 5  # (a writer would have waited for the lock: 10 s)
    engine.close()
    writer.close()
    store.close()


def test_one_engine_shared_by_threads_loses_no_step(tmp_path):
    store = SQLiteStore(tmp_path / "c.db")
    engine = Engine.from_directory(WORKFLOWS, store=store)
    ids: list[str] = []
    errors: list[Exception] = []

    def work() -> None:
        try:
            for _ in range(10):
                case = engine.start("inquiry", AGENT, ASK)
                engine.fire(case.id, "respond", AGENT)
                ids.append(case.id)
        except Exception as exc:  # noqa: BLE001 - any error fails the test
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert engine.count(state="in_progress") == 80
    assert all(engine.get(i).version == 2 for i in ids)
    engine.close()
    store.close()


def test_a_slow_notifier_never_slows_the_step(tmp_path):
    release = threading.Event()

    class Slow:
        def __init__(self) -> None:
            self.threads: list[str] = []

        def notify(self, notice) -> None:
            release.wait(10)
            self.threads.append(threading.current_thread().name)

    slow = Slow()
    store = SQLiteStore(tmp_path / "c.db")
    engine = Engine.from_directory(
        WORKFLOWS, store=store, clock=WorkdayClock(), notifier=slow
    )
    began = time.perf_counter()
    engine.start(
        "emergency",
        LEAD.__class__("m", {"cs_manager"}),
        {"description": "x", "emergency_type": "other", "drill": False},
    )
    assert time.perf_counter() - began < 10
    assert slow.threads == []
    release.set()
    assert engine.flush(10)
    assert slow.threads == ["cswork-deliver"]
    engine.close()
    store.close()


def test_expected_version_is_if_match(engine):
    case = engine.start("inquiry", AGENT, ASK)
    with pytest.raises(ConflictError) as lost:
        engine.fire(case.id, "respond", AGENT, expected_version=case.version + 1)
    assert lost.value.retryable
    assert engine.get(case.id).version == case.version  # nothing written
    moved = engine.fire(case.id, "respond", AGENT, expected_version=case.version)
    assert moved.version == case.version + 1


def test_notices_are_info_records(caplog):
    from cswork import Notice

    with caplog.at_level(logging.DEBUG, logger="cswork.notify"):
        LoggingNotifier().notify(
            Notice(
                "n1", "c1", ("cs_lead",), "start", "hello", datetime.now().astimezone()
            )
        )
    assert [r.levelno for r in caplog.records] == [logging.INFO]


def test_read_only_open_refuses_a_missing_file(tmp_path):
    from cswork.storage.url import NoStoreError, open_store

    with pytest.raises(NoStoreError):
        open_store(f"sqlite:///{tmp_path / 'typo.db'}", create=False)
    with pytest.raises(StorageError):
        SQLiteStore(tmp_path / "typo.db", create=False)
    assert not (tmp_path / "typo.db").exists()
    open_store(f"sqlite:///{tmp_path / 'new.db'}").close()  # writers create it
    assert (tmp_path / "new.db").exists()


def test_armed_deadlines_are_datetimes(engine):
    case = engine.start("inquiry", AGENT, ASK)
    assert case.armed
    assert all(
        isinstance(v, datetime) and v.utcoffset() is not None
        for v in case.armed.values()
    )
    dues = [t.due_at for t in engine.timers(case.id) if t.kind == "due"]
    assert case.next_due_at == min(dues)
