"""The PostgreSQL store's tables and statements (values always as parameters)."""

from __future__ import annotations

from cswork.storage import codec
from cswork.storage._sql import insert_sql, update_case_sql

SCHEMA = """
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

#: format version → SQL that upgrades a store from the version before it.
MIGRATIONS: dict[int, str] = {}

N_TIMER = len(codec.TIMER_COLUMNS)
DEF_NAMES = ("workflow_id", "version", "digest", "source")
DEF_COLS = ", ".join(DEF_NAMES)
INSERT_CASE = (
    insert_sql("cases", codec.CASE_COLUMNS, "%s") + " ON CONFLICT (id) DO NOTHING"
)
INSERT_ENTRY = insert_sql("history", codec.ENTRY_COLUMNS, "%s")
INSERT_TIMER = insert_sql("timers", codec.TIMER_COLUMNS, "%s")
INSERT_OUTBOX = insert_sql("outbox", codec.OUTBOX_INSERT_COLUMNS, "%s")
UPDATE_CASE = update_case_sql("%s")

# Lock the case before its timer: a case locked elsewhere (a concurrent
# commit) makes the row skipped before any of its timers is locked.
CLAIM = (
    f"SELECT {', '.join('t.' + c for c in codec.TIMER_COLUMNS)},"
    f" {', '.join('c.' + c for c in codec.CASE_COLUMNS)}"
    " FROM timers t JOIN cases c ON c.id = t.case_id"
    " WHERE t.state = 'pending' AND t.due_at <= %s"
    " ORDER BY t.due_at, t.seq LIMIT %s FOR UPDATE OF c, t SKIP LOCKED"
)
