"""The PostgreSQL store's tables, statements and migrations (values always as parameters)."""

from __future__ import annotations

from cswork.storage import codec
from cswork.storage._sql import DUE_ORDER, Dialect

DIALECT = Dialect(mark="%s", any_list=True, upsert_case=" ON CONFLICT (id) DO NOTHING")

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
    seq bigserial NOT NULL, next_due_at bigint, owner text, unit text);
CREATE INDEX IF NOT EXISTS cases_by_workflow ON cases (workflow_id, state);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer);
CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at, seq);
CREATE INDEX IF NOT EXISTS cases_by_owner ON cases (owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS cases_by_unit ON cases (unit) WHERE unit IS NOT NULL;
CREATE INDEX IF NOT EXISTS cases_by_due ON cases (next_due_at)
    WHERE next_due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS history (
    case_id text NOT NULL, seq integer NOT NULL, at bigint NOT NULL,
    kind text NOT NULL, event text NOT NULL, actor text NOT NULL, roles text NOT NULL,
    from_state text, to_state text NOT NULL, changes text NOT NULL,
    counters text NOT NULL, detail text NOT NULL, PRIMARY KEY (case_id, seq));
CREATE TABLE IF NOT EXISTS timers (
    id text NOT NULL, case_id text NOT NULL, deadline text NOT NULL,
    kind text NOT NULL, period integer NOT NULL, due_at bigint NOT NULL,
    armed_at bigint NOT NULL, state text NOT NULL, met smallint NOT NULL,
    closed_at bigint, ord bigint NOT NULL, PRIMARY KEY (case_id, id));
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, armed_at, case_id, ord)
    WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS outbox (
    id text NOT NULL UNIQUE, case_id text NOT NULL, created_at bigint NOT NULL,
    kind text NOT NULL, reason text NOT NULL, roles text NOT NULL,
    target text NOT NULL, message text NOT NULL, payload text NOT NULL,
    claimed_by text, claim_until bigint NOT NULL DEFAULT 0,
    attempts integer NOT NULL DEFAULT 0, seq bigserial PRIMARY KEY, not_before bigint);
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id);
"""

#: Format 1 (cswork 0.1.0) → 2: timers keyed by case with their arming order,
#: and the case's next due time (the armed column is rewritten in Python).
TO_2 = """
ALTER TABLE cases ADD COLUMN next_due_at bigint;
ALTER TABLE cases ADD COLUMN owner text;
ALTER TABLE cases ADD COLUMN unit text;
ALTER TABLE outbox ADD COLUMN not_before bigint;
ALTER TABLE timers ADD COLUMN ord bigint;
UPDATE timers SET ord = seq;
ALTER TABLE timers ALTER COLUMN ord SET NOT NULL;
ALTER TABLE timers DROP CONSTRAINT timers_pkey;
ALTER TABLE timers ADD PRIMARY KEY (case_id, id);
DROP INDEX IF EXISTS timers_by_case;
DROP INDEX IF EXISTS timers_due;
ALTER TABLE timers DROP COLUMN seq;
"""

N_TIMER = len(codec.TIMER_COLUMNS)
DEF_NAMES = ("workflow_id", "version", "digest", "source")
DEF_COLS = ", ".join(DEF_NAMES)

# Lock the case before its timer: a case locked elsewhere (a concurrent
# commit) makes the row skipped before any of its timers is locked.
CLAIM = (
    f"SELECT {', '.join('t.' + c for c in codec.TIMER_COLUMNS)},"
    f" {', '.join('c.' + c for c in codec.CASE_COLUMNS)}"
    " FROM timers t JOIN cases c ON c.id = t.case_id"
    " WHERE t.state = 'pending' AND t.due_at <= %s"
    f" ORDER BY {', '.join('t.' + c for c in DUE_ORDER.split(', '))}"
    " LIMIT %s FOR UPDATE OF c, t SKIP LOCKED"
)
