"""W2 counters: what one SQLite step costs in statements, VM instructions and WAL pages.

Seconds on a shared machine move with the neighbours; these counts do not.
For the engine and both hand-written floors, on the W2 workload (WAL,
``synchronous=FULL``, one commit per step), per step:

- SQL statements executed (``set_trace_callback``: one call per statement
  run, each execution of an ``executemany`` included);
- SQLite VM instructions (``set_progress_handler(counter, 1)``: one call per
  instruction);
- WAL pages per commit: the WAL file's growth in frames,
  (size − 32-byte header) / (page size + 24-byte frame header), with
  automatic checkpoints off while measuring so the file only grows.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from cswork.storage import SQLiteStore

from .common import STEPS_PER_CASE, Row, close_store, complaints, engine_on, scratch
from .floors import MinimalFloor, SameRowsFloor
from .steprows import record


def _connections(store: SQLiteStore) -> list[sqlite3.Connection]:
    """The sqlite3 connections a ``SQLiteStore`` runs its statements on.

    The one place that knows where the store keeps them: repoint it here when
    the store changes.
    """
    return store.connections()


@dataclass
class Counts:
    """What was counted while a probe was attached."""

    statements: int = 0
    instructions: int = 0
    commits: int = 0
    wal_frames: int = 0


def _wal_frames(db: sqlite3.Connection) -> int:
    """Frames in the WAL file of ``db``'s main database (0 if there is none)."""
    main = next(
        row[2] for row in db.execute("PRAGMA database_list") if row[1] == "main"
    )
    wal = Path(f"{main}-wal")
    size = wal.stat().st_size if wal.exists() else 0
    page = db.execute("PRAGMA page_size").fetchone()[0]
    return max(0, size - 32) // (page + 24)


@contextmanager
def counting(connections: list[sqlite3.Connection]) -> Iterator[Counts]:
    """Count statements, VM instructions, commits and WAL frames inside the block."""
    counts = Counts()

    def trace(sql: str) -> None:
        counts.statements += 1
        if sql.lstrip()[:6].upper() == "COMMIT":
            counts.commits += 1

    def tick() -> int:
        counts.instructions += 1
        return 0

    frames = []
    for db in connections:
        db.execute("PRAGMA wal_autocheckpoint = 0")
        frames.append(_wal_frames(db))
        db.set_trace_callback(trace)
        db.set_progress_handler(tick, 1)
    try:
        yield counts
    finally:
        for db, before in zip(connections, frames, strict=True):
            db.set_trace_callback(None)
            db.set_progress_handler(None, 0)
            counts.wal_frames += _wal_frames(db) - before


def _engine_counts(tmp: Path, cases: int) -> Counts:
    store = SQLiteStore(tmp / "engine.db", synchronous="FULL")
    try:
        run = complaints(engine_on(store), cases)
        with counting(_connections(store)) as counts:
            run()
        return counts
    finally:
        close_store(store)


def _floor_counts(tmp: Path, cases: int, same_rows: bool) -> Counts:
    floor = (
        SameRowsFloor(tmp / "same.db", record())
        if same_rows
        else MinimalFloor(tmp / "minimal.db")
    )
    try:
        with counting([floor.db]) as counts:
            floor.run(cases)
        return counts
    finally:
        floor.close()


def w2_counters(cases: int) -> list[Row]:
    """W2 counters: per step, for the engine beside the two floors."""
    with scratch() as tmp:
        engine = _engine_counts(tmp, cases)
        same = _floor_counts(tmp, cases, same_rows=True)
        minimal = _floor_counts(tmp, cases, same_rows=False)
    steps = cases * STEPS_PER_CASE
    rows: list[Row] = []
    figures = (
        ("SQL statements per step", lambda c: c.statements / steps, ""),
        ("SQLite VM instructions per step", lambda c: c.instructions / steps, ""),
        ("commits per step", lambda c: c.commits / steps, ""),
        (
            "WAL pages per commit",
            lambda c: c.wal_frames / max(c.commits, 1),
            "≤ 1.3× same-rows floor",
        ),
    )
    for metric, per, target in figures:
        rows.append(Row("W2 counters", f"{metric}, minimal floor", per(minimal), "n"))
        rows.append(Row("W2 counters", f"{metric}, same-rows floor", per(same), "n"))
        value, floor = per(engine), per(same)
        rows.append(
            Row(
                "W2 counters",
                f"{metric}, engine (vs same-rows)",
                value,
                "n",
                floor=floor,
                target=target,
                ok=(value / floor <= 1.3) if target and floor else None,
            )
        )
    if os.environ.get("CSWORK_BENCH_VERBOSE"):
        print(f"W2 counters over {steps} steps: engine {engine}, same-rows {same},"
              f" minimal {minimal}")  # fmt: skip
    return rows
