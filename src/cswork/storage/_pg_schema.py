"""Creating and upgrading a PostgreSQL schema: one locked transaction per process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeAlias

from psycopg import sql

from cswork.errors import StoredFormatError
from cswork.storage import codec
from cswork.storage._pg_sql import SCHEMA, TO_2
from cswork.storage.base import FORMAT_VERSION

if TYPE_CHECKING:
    import psycopg
    from psycopg.rows import TupleRow

Conn: TypeAlias = "psycopg.Connection[TupleRow]"


def migrate(conn: Conn, schema: str | None) -> None:
    """Create or upgrade the tables of ``schema`` (the search path's when None).

    One transaction under an advisory lock, so racing processes migrate once.

    Raises:
        StoredFormatError: the tables were written by a newer cswork.
    """
    with conn.transaction():
        key = f"cswork:{schema or ''}"
        conn.execute("SELECT pg_advisory_xact_lock(hashtext(%s))", (key,))
        if schema is not None:
            create = sql.SQL("CREATE SCHEMA IF NOT EXISTS {}")
            conn.execute(create.format(sql.Identifier(schema)))
        exists = conn.execute("SELECT to_regclass('meta') IS NOT NULL").fetchone()
        row = (
            conn.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
            if exists and exists[0]
            else None
        )
        version = int(row[0]) if row else FORMAT_VERSION
        if version > FORMAT_VERSION:
            raise StoredFormatError(
                f"schema {schema or '(default)'} was written by a newer "
                f"cswork (format {version}; this one reads up to {FORMAT_VERSION})"
            )
        for step in range(version + 1, FORMAT_VERSION + 1):
            MIGRATIONS[step](conn)
        conn.execute(SCHEMA)
        conn.execute(
            "INSERT INTO meta (key, value) VALUES ('format', %s)"
            " ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
            (str(FORMAT_VERSION),),
        )


def _to_2(conn: Conn) -> None:
    conn.execute(TO_2)
    rows = conn.execute(
        "SELECT case_id, deadline, kind, due_at, id FROM timers"
        " WHERE state = 'pending' ORDER BY case_id, deadline, kind = 'warn', ord"
    ).fetchall()
    conn.execute("UPDATE cases SET armed = '{}'")
    for case_id, (armed, nxt) in codec.rebuild_armed(rows).items():
        conn.execute(
            "UPDATE cases SET armed = %s, next_due_at = %s WHERE id = %s",
            (armed, nxt, case_id),
        )


#: format version → what upgrades the tables from the version before it.
MIGRATIONS: dict[int, Callable[[Conn], None]] = {2: _to_2}
