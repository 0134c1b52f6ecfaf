"""Stores written by an older cswork are upgraded on opening, and keep working.

The tables of format 1 (cswork 0.1.0) are written here as they were, with a
case whose deadline is armed (its timer and its warning pending) and an older
cancelled timer; opening the store must give the same case, armed with the
ids of its pending timers, and an engine must go on with it.
"""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cswork.errors import StoredFormatError
from cswork.storage import SQLiteStore, codec
from cswork.storage import _sqlite_schema as sqlite_schema
from cswork.storage.base import FORMAT_VERSION
from cswork.testing.store_contract import fire_due, step

from . import pg

T0 = datetime(2026, 3, 3, 2, 0, tzinfo=UTC)
DUE = T0 + timedelta(hours=4)
WARN = T0 + timedelta(hours=3)

FORMAT_1_SQLITE = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    workflow_id TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (workflow_id, version));
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, workflow_version INTEGER NOT NULL,
    state TEXT NOT NULL, data TEXT NOT NULL, counters TEXT NOT NULL, customer TEXT,
    closed INTEGER NOT NULL, breaches INTEGER NOT NULL, armed TEXT NOT NULL,
    version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS cases_by_workflow ON cases (workflow_id, state);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer);
CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at);
CREATE TABLE IF NOT EXISTS history (
    case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,
    kind TEXT NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, roles TEXT NOT NULL,
    from_state TEXT, to_state TEXT NOT NULL, changes TEXT NOT NULL,
    counters TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
    id TEXT PRIMARY KEY, case_id TEXT NOT NULL, deadline TEXT NOT NULL,
    kind TEXT NOT NULL, period INTEGER NOT NULL, due_at INTEGER NOT NULL,
    armed_at INTEGER NOT NULL, state TEXT NOT NULL, met INTEGER NOT NULL,
    closed_at INTEGER);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS timers_by_case ON timers (case_id);
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, created_at INTEGER NOT NULL,
    kind TEXT NOT NULL, reason TEXT NOT NULL, roles TEXT NOT NULL,
    target TEXT NOT NULL, message TEXT NOT NULL, payload TEXT NOT NULL,
    claimed_by TEXT, claim_until INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id);
"""


FORMAT_1_POSTGRES = """
CREATE TABLE IF NOT EXISTS meta (key text PRIMARY KEY, value text NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    workflow_id text NOT NULL, version integer NOT NULL, digest text NOT NULL,
    source text NOT NULL, PRIMARY KEY (workflow_id, version));
CREATE TABLE IF NOT EXISTS cases (
    id text PRIMARY KEY, workflow_id text NOT NULL, workflow_version integer NOT NULL,
    state text NOT NULL, data text NOT NULL, counters text NOT NULL, customer text,
    closed smallint NOT NULL, breaches integer NOT NULL, armed text NOT NULL,
    version integer NOT NULL, created_at bigint NOT NULL, updated_at bigint NOT NULL,
    seq bigserial NOT NULL);
CREATE INDEX IF NOT EXISTS cases_by_workflow ON cases (workflow_id, state);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer);
CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at, seq);
CREATE TABLE IF NOT EXISTS history (
    case_id text NOT NULL, seq integer NOT NULL, at bigint NOT NULL,
    kind text NOT NULL, event text NOT NULL, actor text NOT NULL, roles text NOT NULL,
    from_state text, to_state text NOT NULL, changes text NOT NULL,
    counters text NOT NULL, detail text NOT NULL, PRIMARY KEY (case_id, seq));
CREATE TABLE IF NOT EXISTS timers (
    id text PRIMARY KEY, case_id text NOT NULL, deadline text NOT NULL,
    kind text NOT NULL, period integer NOT NULL, due_at bigint NOT NULL,
    armed_at bigint NOT NULL, state text NOT NULL, met smallint NOT NULL,
    closed_at bigint, seq bigserial NOT NULL);
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, seq) WHERE state = 'pending';
CREATE INDEX IF NOT EXISTS timers_by_case ON timers (case_id);
CREATE TABLE IF NOT EXISTS outbox (
    id text NOT NULL UNIQUE, case_id text NOT NULL, created_at bigint NOT NULL,
    kind text NOT NULL, reason text NOT NULL, roles text NOT NULL,
    target text NOT NULL, message text NOT NULL, payload text NOT NULL,
    claimed_by text, claim_until bigint NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0, seq bigserial PRIMARY KEY);
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id);
"""

CASE_V1 = (
    "c-1", "wf", 1, "open", '{"a":1}', '{"n":0}', "C-1", 0, 0,
    f'{{"d":"{DUE.isoformat()}"}}', 3, codec.to_us(T0), codec.to_us(T0),
)  # fmt: skip
TIMERS_V1 = [  # id, case, deadline, kind, period, due, armed, state, met, closed
    ("t-old", "c-1", "d", "due", 0, codec.to_us(T0), codec.to_us(T0), "cancelled", 0,
     codec.to_us(T0)),
    ("t-due", "c-1", "d", "due", 0, codec.to_us(DUE), codec.to_us(T0), "pending", 0, None),
    ("t-warn", "c-1", "d", "warn", 0, codec.to_us(WARN), codec.to_us(T0), "pending", 0,
     None),
]  # fmt: skip


def _fill(execute: Any, mark: str) -> None:
    execute(f"INSERT INTO cases VALUES ({', '.join([mark] * 13)})", CASE_V1)
    for t in TIMERS_V1:
        cols = "id, case_id, deadline, kind, period, due_at, armed_at, state, met, closed_at"
        execute(f"INSERT INTO timers ({cols}) VALUES ({', '.join([mark] * 10)})", t)
    execute(f"INSERT INTO meta VALUES ('format', {mark})", ("1",))


def _check_upgraded(store: Any) -> None:
    assert store.format_version == FORMAT_VERSION
    case = store.load_case("c-1")
    assert case.armed == {"d": DUE}
    assert case.timer_ids == {"d": ("t-due", "t-warn")}
    assert dict(case.data) == {"a": 1}
    assert [t.id for t in store.timers("c-1")] == ["t-old", "t-warn", "t-due"]
    assert store.next_due_at() == WARN
    # It goes on: the warning fires, then the step cancels the deadline.
    fired = fire_due(store, WARN, lambda c, t: step(c, fired_timer=t.id),
                     worker_id="w")  # fmt: skip
    assert [c.fired_timer for c in fired] == ["t-warn"]
    store.commit(step(store.load_case("c-1"), cancel=("t-due",)))
    assert [t.state for t in store.timers("c-1")] == ["cancelled", "fired", "cancelled"]


def test_a_format_1_sqlite_file_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    db = sqlite3.connect(path)
    db.executescript(FORMAT_1_SQLITE)
    _fill(db.execute, "?")
    db.commit()
    db.close()
    store = SQLiteStore(path)
    try:
        _check_upgraded(store)
    finally:
        store.close()


def test_sqlite_refuses_a_newer_format_and_runs_later_migrations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "f.db"
    SQLiteStore(path).close()
    db = sqlite3.connect(path)
    db.execute("UPDATE meta SET value = '99' WHERE key = 'format'")
    db.commit()
    db.close()
    with pytest.raises(StoredFormatError, match="newer"):
        SQLiteStore(path)
    # An older store is upgraded on opening: pretend this cswork writes a next format.
    old = tmp_path / "old.db"
    SQLiteStore(old).close()
    nxt = FORMAT_VERSION + 1
    monkeypatch.setattr(sqlite_schema, "FORMAT_VERSION", nxt)
    monkeypatch.setitem(
        sqlite_schema.MIGRATIONS, nxt, "ALTER TABLE cases ADD COLUMN note TEXT"
    )
    store = SQLiteStore(old)
    assert store.format_version == nxt
    columns = [r[1] for r in store.connections()[0].execute("PRAGMA table_info(cases)")]
    assert "note" in columns
    store.close()


@pytest.mark.postgres
def test_format_1_postgres_tables_are_upgraded(
    pg_stores: pg.StoreFactory, pg_server: pg.PgServer
) -> None:
    import psycopg

    schema = pg.new_schema()
    try:
        with psycopg.connect(pg_server.dsn, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA "{schema}"')
            conn.execute(f'SET search_path TO "{schema}"')
            conn.execute(FORMAT_1_POSTGRES)  # type: ignore[arg-type]
            _fill(conn.execute, "%s")
        store = pg_stores(schema=schema)
        try:
            _check_upgraded(store)
        finally:
            store.close()
    finally:
        pg.drop_schemas(pg_server.dsn, [schema])
