"""The SQLite store's tables, and the migrations from older stored formats.

Timers are clustered by case (``WITHOUT ROWID``, key ``(case_id, id)``), so a
step reaches the timers it closes by their keys, and listing a case's timers
reads one range; the only other index holds pending timers by due time, for
the claims. ``ord`` keeps arming order for timers armed at the same instant.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from cswork.errors import StoredFormatError
from cswork.storage import codec
from cswork.storage.base import FORMAT_VERSION

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS definitions (
    workflow_id TEXT NOT NULL, version INTEGER NOT NULL, digest TEXT NOT NULL,
    source TEXT NOT NULL, PRIMARY KEY (workflow_id, version));
CREATE TABLE IF NOT EXISTS cases (
    id TEXT PRIMARY KEY, workflow_id TEXT NOT NULL, workflow_version INTEGER NOT NULL,
    state TEXT NOT NULL, data TEXT NOT NULL, counters TEXT NOT NULL, customer TEXT,
    closed INTEGER NOT NULL, breaches INTEGER NOT NULL, armed TEXT NOT NULL,
    version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
    next_due_at INTEGER, owner TEXT, unit TEXT);
CREATE INDEX IF NOT EXISTS cases_by_workflow ON cases (workflow_id, state);
CREATE INDEX IF NOT EXISTS cases_by_customer ON cases (customer);
CREATE INDEX IF NOT EXISTS cases_by_created ON cases (created_at);
CREATE INDEX IF NOT EXISTS cases_by_owner ON cases (owner) WHERE owner IS NOT NULL;
CREATE INDEX IF NOT EXISTS cases_by_unit ON cases (unit) WHERE unit IS NOT NULL;
CREATE INDEX IF NOT EXISTS cases_by_due ON cases (next_due_at)
    WHERE next_due_at IS NOT NULL;
CREATE TABLE IF NOT EXISTS history (
    case_id TEXT NOT NULL, seq INTEGER NOT NULL, at INTEGER NOT NULL,
    kind TEXT NOT NULL, event TEXT NOT NULL, actor TEXT NOT NULL, roles TEXT NOT NULL,
    from_state TEXT, to_state TEXT NOT NULL, changes TEXT NOT NULL,
    counters TEXT NOT NULL, detail TEXT NOT NULL,
    PRIMARY KEY (case_id, seq)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS timers (
    id TEXT NOT NULL, case_id TEXT NOT NULL, deadline TEXT NOT NULL,
    kind TEXT NOT NULL, period INTEGER NOT NULL, due_at INTEGER NOT NULL,
    armed_at INTEGER NOT NULL, state TEXT NOT NULL, met INTEGER NOT NULL,
    closed_at INTEGER, ord INTEGER NOT NULL,
    PRIMARY KEY (case_id, id)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS timers_due ON timers (due_at, armed_at, case_id, ord)
    WHERE state = 'pending';
CREATE TABLE IF NOT EXISTS outbox (
    id TEXT NOT NULL UNIQUE, case_id TEXT NOT NULL, created_at INTEGER NOT NULL,
    kind TEXT NOT NULL, reason TEXT NOT NULL, roles TEXT NOT NULL,
    target TEXT NOT NULL, message TEXT NOT NULL, payload TEXT NOT NULL,
    claimed_by TEXT, claim_until INTEGER NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0, not_before INTEGER);
CREATE INDEX IF NOT EXISTS outbox_by_case ON outbox (case_id);
"""

#: Format 1 (cswork 0.1.0) → 2: timers keyed by case, armed deadlines with
#: their timer ids, the case's next due time, owner and unit.
_TO_2 = """
ALTER TABLE cases ADD COLUMN next_due_at INTEGER;
ALTER TABLE cases ADD COLUMN owner TEXT;
ALTER TABLE cases ADD COLUMN unit TEXT;
ALTER TABLE outbox ADD COLUMN not_before INTEGER;
CREATE TABLE timers_v2 (
    id TEXT NOT NULL, case_id TEXT NOT NULL, deadline TEXT NOT NULL,
    kind TEXT NOT NULL, period INTEGER NOT NULL, due_at INTEGER NOT NULL,
    armed_at INTEGER NOT NULL, state TEXT NOT NULL, met INTEGER NOT NULL,
    closed_at INTEGER, ord INTEGER NOT NULL,
    PRIMARY KEY (case_id, id)) WITHOUT ROWID;
INSERT INTO timers_v2 SELECT id, case_id, deadline, kind, period, due_at, armed_at,
    state, met, closed_at, rowid FROM timers;
DROP TABLE timers;
ALTER TABLE timers_v2 RENAME TO timers;
"""


def _armed_v2(db: sqlite3.Connection) -> None:
    """Rewrite each case's armed deadlines from its pending timers."""
    rows = db.execute(
        "SELECT case_id, deadline, kind, due_at, id FROM timers"
        " WHERE state = 'pending' ORDER BY case_id, deadline, kind = 'warn', ord"
    ).fetchall()
    db.execute("UPDATE cases SET armed = '{}'")
    for case_id, (armed, nxt) in codec.rebuild_armed(rows).items():
        db.execute(
            "UPDATE cases SET armed = ?, next_due_at = ? WHERE id = ?",
            (armed, nxt, case_id),
        )


def _to_2(db: sqlite3.Connection) -> None:
    _script(db, _TO_2)
    _armed_v2(db)


#: format version → what upgrades a store from the version before it.
MIGRATIONS: dict[int, str | Callable[[sqlite3.Connection], None]] = {2: _to_2}


def _script(db: sqlite3.Connection, sql: str) -> None:
    for statement in sql.split(";"):
        if statement.strip():
            db.execute(statement)


def migrate_sqlite(db: sqlite3.Connection, path: str) -> None:
    """Create the tables, or upgrade them to ``FORMAT_VERSION``, in a transaction.

    Raises:
        StoredFormatError: the file was written by a newer cswork.
    """
    fresh = (
        db.execute(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
        ).fetchone()
        is None
    )
    row = None if fresh else db.execute(
        "SELECT value FROM meta WHERE key = 'format'"
    ).fetchone()  # fmt: skip
    version = int(row[0]) if row else FORMAT_VERSION
    if version > FORMAT_VERSION:
        raise StoredFormatError(
            f"{path} was written by a newer cswork (format {version}; "
            f"this one reads up to {FORMAT_VERSION})"
        )
    for step in range(version + 1, FORMAT_VERSION + 1):
        upgrade = MIGRATIONS[step]
        if isinstance(upgrade, str):
            _script(db, upgrade)
        else:
            upgrade(db)
    _script(db, SCHEMA)
    db.execute(
        "INSERT OR REPLACE INTO meta (key, value) VALUES ('format', ?)",
        (str(FORMAT_VERSION),),
    )
