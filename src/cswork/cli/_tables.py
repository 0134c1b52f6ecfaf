"""Rendering for the terminal (rich, imported on use); reports render in cswork.report.text."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from zoneinfo import ZoneInfo

    from rich.console import Console
    from rich.table import Table

    from cswork.records import HistoryEntry


def console() -> Console:
    """A console for tables: the terminal's width, or 140 columns when piped."""
    from rich.console import Console

    out = Console()
    return out if out.is_terminal else Console(width=140)


def offset(tz: ZoneInfo, at: datetime) -> str:
    """``+08:00``: the zone's offset at ``at`` (for column titles)."""
    text = at.astimezone(tz).strftime("%z") or "+0000"
    return f"{text[:3]}:{text[3:]}"


def history_table(entries: Sequence[HistoryEntry], title: str, tz: ZoneInfo) -> Table:
    """A case's history as a table (times in ``tz``)."""
    from rich.table import Table

    table = Table(title=title)
    head = f"time ({offset(tz, entries[0].at)})" if entries else "time"
    for col in ("#", head, "step", "by", "state", "what changed / happened"):
        table.add_column(col, overflow="fold")
    for h in entries:
        what = [f"{k}={v}" for k, v in h.changes.items()]
        what += [f"{k}={v}" for k, v in h.counters.items() if v]
        what += [f"{k}: {v}" for k, v in h.detail.items() if k not in ("timer",)]
        step = h.event if h.kind in ("start", "event") else f"{h.kind}: {h.event}"
        table.add_row(
            str(h.seq),
            h.at.astimezone(tz).strftime("%a %m-%d %H:%M"),
            step,
            h.actor,
            h.to_state,
            "; ".join(what)[:200],
        )
    return table


@contextmanager
def progress(
    out: Console, what: str, total: int | None = None, *, enabled: bool = True
) -> Iterator[Callable[[int], None]]:
    """A progress callback ``tick(done)`` drawing a bar on a terminal only.

    Nothing is drawn when ``out`` is not a terminal (pipes, files, JSON
    output: pass ``enabled=False``), nor for work done within a second.
    """
    import time

    began = time.perf_counter()
    bar = None
    task = None

    def tick(done: int) -> None:
        nonlocal bar, task
        if not enabled or not out.is_terminal:
            return
        if bar is None:
            if time.perf_counter() - began < 1.0:
                return
            from rich.progress import Progress

            bar = Progress(console=out, transient=True)
            bar.start()
            task = bar.add_task(what, total=total)
        assert task is not None  # noqa: S101 - set with the bar
        bar.update(task, completed=done)

    try:
        yield tick
    finally:
        if bar is not None:
            bar.stop()
