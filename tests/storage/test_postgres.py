"""What only PostgreSQL adds: real races, SKIP LOCKED, NOTIFY, server restarts."""

from __future__ import annotations

import importlib
import sys
import threading
import time
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    CsworkError,
    StorageError,
    StoredFormatError,
)
from cswork.records import Case, CaseChange, Timer
from cswork.storage import codec
from cswork.storage.base import FORMAT_VERSION
from cswork.storage.url import open_store
from cswork.testing.store_contract import (
    T0,
    created,
    everything,
    fire_due,
    make_case,
    outbox,
    step,
    timer,
)

from . import pg

pytestmark = pytest.mark.postgres


def raw(store: Any, dsn: str) -> Any:
    """A plain psycopg connection on the store's schema (not autocommit)."""
    import psycopg

    conn = psycopg.connect(dsn, connect_timeout=5)
    conn.execute("SELECT set_config('search_path', %s, false)", (store.schema,))
    conn.commit()
    return conn


def fire(case: Case, t: Timer) -> CaseChange:
    return step(
        case, at=t.due_at, fired_timer=t.id, new={"breaches": case.breaches + 1}
    )


# ------------------------------------------------------------------ races
def test_two_connections_racing_on_one_version_one_wins(
    pg_stores: pg.StoreFactory,
) -> None:
    a = pg_stores()
    b = pg_stores(schema=a.schema)
    for _ in range(20):
        case = created(a)
        changes = [
            step(case, new={"state": s}, arm=(timer(case, s, T0),),
                 outbox=(outbox(case, message=s),))
            for s in ("won-by-a", "won-by-b")
        ]  # fmt: skip
        barrier = threading.Barrier(2)
        results: list[Any] = [None, None]

        def run(
            i: int,
            s: Any,
            change: CaseChange,
            barrier: Any = barrier,
            results: Any = results,
        ) -> None:
            barrier.wait()
            results[i] = _raises(s.commit, change) or "ok"

        threads = [threading.Thread(target=run, args=(i, s, c))
                   for i, (s, c) in enumerate(zip((a, b), changes, strict=True))]  # fmt: skip
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert sorted(map(type, results), key=str) == sorted(
            [str, ConflictError], key=str
        )
        winner = changes[results.index("ok")]
        assert a.load_case(case.id) == winner.case
        assert [e.seq for e in a.history(case.id)] == [1, 2]
        assert [t.deadline for t in a.timers(case.id)] == [winner.case.state]
        items = a.claim_outbox(T0, worker_id="w", lease=timedelta(1), case_id=case.id)
        assert [o.message for o in items] == [winner.case.state]


def test_a_commit_waiting_on_a_row_lock_loses_when_the_holder_commits(
    pg_stores: pg.StoreFactory,
) -> None:
    a = pg_stores()
    b = pg_stores(schema=a.schema)
    case = created(a)
    outcome: list[BaseException | None] = []
    with a.batch():
        a.commit(step(case, new={"state": "a"}))  # holds the row lock
        waiter = threading.Thread(
            target=lambda: outcome.append(_raises(b.commit, step(case, arm=(timer(case, "x", T0),))))
        )  # fmt: skip
        waiter.start()
        waiter.join(0.5)
        assert waiter.is_alive(), "b should wait for a's row lock"
    waiter.join(10)
    assert len(outcome) == 1
    assert isinstance(outcome[0], ConflictError)
    assert a.load_case(case.id).state == "a"
    assert a.timers(case.id) == []


def _raises(fn: Any, *args: Any) -> Exception | None:
    try:
        fn(*args)
    except Exception as exc:  # noqa: BLE001 - the test inspects it
        return exc
    return None


# ------------------------------------------------------------ SKIP LOCKED
def test_a_claimer_skips_a_locked_case_without_waiting(
    pg_stores: pg.StoreFactory, pg_server: pg.PgServer
) -> None:
    store = pg_stores()
    due = T0 - timedelta(days=1)
    locked = created(store, ("a", due), ("b", due + timedelta(seconds=1)))
    free = [created(store, ("a", due + timedelta(seconds=i))) for i in range(3)]
    holder = raw(store, pg_server.dsn)
    probe = raw(store, pg_server.dsn)
    holder.execute("SELECT 1 FROM cases WHERE id = %s FOR UPDATE", (locked.id,))
    half_locked: list[str] = []

    def handler(case: Case, t: Timer) -> CaseChange:
        # inside the claiming transaction: the skipped case's timers are not
        # locked (the claim locks the case first, then the timer)
        import psycopg

        try:
            probe.execute("SELECT 1 FROM timers WHERE case_id = %s FOR UPDATE NOWAIT",
                          (locked.id,))  # fmt: skip
        except psycopg.errors.LockNotAvailable:
            half_locked.append(case.id)
        probe.rollback()
        return fire(case, t)

    try:
        got: list[list[CaseChange]] = []
        worker = threading.Thread(
            target=lambda: got.append(fire_due(store, T0, handler, worker_id="w"))
        )
        started = time.monotonic()
        worker.start()
        worker.join(10)
        assert not worker.is_alive(), "the claimer waited for the locked case"
        assert time.monotonic() - started < 5
        assert sorted(c.case.id for c in got[0]) == sorted(c.id for c in free)
        assert half_locked == []
        assert [t.state for t in store.timers(locked.id)] == ["pending", "pending"]
    finally:
        holder.rollback()
        holder.close()
        probe.close()
    again = fire_due(store, T0, fire, worker_id="w")
    assert [c.case.id for c in again] == [locked.id, locked.id]
    assert store.load_case(locked.id).breaches == 2


# ----------------------------------------------------------------- NOTIFY
def test_arming_timers_notifies_listeners(pg_stores: pg.StoreFactory) -> None:
    store = pg_stores()
    other = pg_stores(schema=store.schema)
    seen: list[datetime] = []
    arrived = threading.Event()
    due = T0 + timedelta(days=3, microseconds=uuid.uuid4().int % 10**6)

    def callback(at: datetime) -> None:
        seen.append(at)
        if at == due:
            arrived.set()

    stop = store.listen(callback)
    try:
        case = created(other)
        stale = step(case, arm=(timer(case, "z", due + timedelta(hours=1)),))
        other.commit(step(case, arm=(timer(case, "late", due + timedelta(days=1)),
                                     timer(case, "early", due))))  # fmt: skip
        assert arrived.wait(10), f"no notification for {due}; got {seen}"
        with pytest.raises(ConflictError):
            other.commit(stale)  # rolled back: no notification
        time.sleep(0.5)
        assert due + timedelta(hours=1) not in seen
        assert due + timedelta(days=1) not in seen
    finally:
        stop()
    seen.clear()
    created(other, ("d", due))
    time.sleep(0.5)
    assert seen == []


# ------------------------------------------------------- server restarts
def test_a_server_stop_gives_storage_errors_and_the_store_recovers(
    own_cluster: pg.Cluster,
) -> None:
    make, cleanup = pg.store_factory(own_cluster.dsn)
    try:
        store = make(connect_timeout=2)
        case = created(store, ("d", T0))
        before = everything(store, case.id)

        def stopped_mid_batch() -> None:
            with store.batch():
                store.commit(step(case, arm=(timer(case, "e", T0),)))
                own_cluster.stop()
                store.commit(step(store.load_case(case.id)))  # the server is gone

        try:
            with pytest.raises(StorageError) as err:
                stopped_mid_batch()
            assert "PostgreSQL" in str(err.value)
            assert _is_cswork(err.value)
            with pytest.raises(StorageError) as err:
                store.load_case(case.id)
            assert _is_cswork(err.value)
        finally:
            own_cluster.start()
        assert _eventually(lambda: everything(store, case.id)) == before
        store.commit(step(case))
        assert store.load_case(case.id).version == 2
    finally:
        cleanup()


def _eventually(fn: Any, within: float = 60) -> Any:
    """``fn()`` once the pool has reconnected (StorageError meanwhile)."""
    deadline = time.monotonic() + within
    while True:
        try:
            return fn()
        except StorageError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _is_cswork(exc: BaseException) -> bool:
    return isinstance(exc, CsworkError) and "psycopg" not in type(exc).__module__


# ------------------------------------------------ errors at the boundary
def test_driver_errors_never_escape(
    pg_stores: pg.StoreFactory, pg_server: pg.PgServer
) -> None:
    from cswork.storage.postgres import PostgresStore

    for dsn in ("postgresql://postgres@127.0.0.1:1/postgres", "host= = nonsense"):
        with pytest.raises(StorageError) as err:
            PostgresStore(dsn, connect_timeout=2)
        assert _is_cswork(err.value)
        assert type(err.value.__cause__).__module__.startswith("psycopg")
    with pytest.raises(ValueError, match="schema"):
        PostgresStore(pg_server.dsn, schema="Robert'); DROP TABLE cases;--")

    store = pg_stores()
    with pytest.raises(StorageError) as err:
        created(store, case_id="nul\x00byte")
    assert _is_cswork(err.value)
    with pytest.raises(StorageError):  # PostgreSQL text cannot hold NUL at all
        store.load_case("nul\x00byte")
    with pytest.raises(CaseNotFoundError):
        store.load_case("no-such-case")
    store.close()
    with pytest.raises(StorageError) as err:
        store.load_case("x")
    assert _is_cswork(err.value)


def test_serialization_failures_become_conflicts() -> None:
    import psycopg

    from cswork.storage.postgres import translate_errors

    for exc in (psycopg.errors.SerializationFailure("s"),
                psycopg.errors.DeadlockDetected("d")):  # fmt: skip
        with pytest.raises(ConflictError) as err, translate_errors("c-1"):
            raise exc
        assert err.value.case_id == "c-1"
        assert err.value.__cause__ is exc


def test_tables_written_by_a_newer_cswork_are_refused(
    pg_stores: pg.StoreFactory, pg_server: pg.PgServer
) -> None:
    store = pg_stores()
    assert store.format_version == FORMAT_VERSION
    conn = raw(store, pg_server.dsn)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    conn.commit()
    conn.close()
    with pytest.raises(StoredFormatError, match="newer"):
        pg_stores(schema=store.schema)


def test_a_plain_url_opens_the_default_schema(pg_server: pg.PgServer) -> None:
    import psycopg
    from psycopg.conninfo import conninfo_to_dict

    name = f"cswork_url_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        p = conninfo_to_dict(pg_server.dsn)
        auth = f"{p.get('user', 'postgres')}" + (
            f":{p['password']}" if p.get("password") else ""
        )
        url = f"postgresql://{auth}@{p.get('host', 'localhost')}:{p.get('port', 5432)}/{name}"
        store = open_store(url)
        try:
            case = created(store)
            assert store.load_case(case.id) == case
            assert store.schema is None  # type: ignore[attr-defined]
        finally:
            store.close()
    finally:
        with psycopg.connect(pg_server.dsn, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@pytest.fixture
def no_psycopg(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg", None)
    monkeypatch.delitem(sys.modules, "cswork.storage.postgres", raising=False)


@pytest.mark.usefixtures("no_psycopg")
def test_a_missing_psycopg_says_what_to_install() -> None:
    with pytest.raises(StorageError, match=r"pip install 'cswork\[postgres\]'"):
        importlib.import_module("cswork.storage.postgres")


def test_times_are_exact_microseconds(pg_stores: pg.StoreFactory) -> None:
    store = pg_stores()
    odd = T0 + timedelta(microseconds=1)
    case = make_case(created_at=odd, updated_at=odd, data={"f": 1.0, "big": 2**53 + 1})
    store.create_case(CaseChange(case=case, expected_version=0, entries=()))
    loaded = store.load_case(case.id)
    assert loaded == case
    assert codec.to_us(loaded.created_at) == codec.to_us(odd)
    assert type(loaded.data["f"]) is float
