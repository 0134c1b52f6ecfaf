"""Rendering histories for the terminal (rich); reports render in cswork.report.text."""

from __future__ import annotations

from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from cswork.records import HistoryEntry

LOCAL = ZoneInfo("Asia/Shanghai")


def console() -> Console:
    """A console for tables: the terminal's width, or 140 columns when piped."""
    out = Console()
    return out if out.is_terminal else Console(width=140)


def history_table(entries: Sequence[HistoryEntry], title: str) -> Table:
    """A case's history as a table (times in Asia/Shanghai)."""
    table = Table(title=title)
    for col in ("#", "time (+08:00)", "step", "by", "state", "what changed / happened"):
        table.add_column(col, overflow="fold")
    for h in entries:
        what = [f"{k}={v}" for k, v in h.changes.items()]
        what += [f"{k}={v}" for k, v in h.counters.items() if v]
        what += [f"{k}: {v}" for k, v in h.detail.items() if k not in ("timer",)]
        step = h.event if h.kind in ("start", "event") else f"{h.kind}: {h.event}"
        table.add_row(
            str(h.seq),
            h.at.astimezone(LOCAL).strftime("%a %m-%d %H:%M"),
            step,
            h.actor,
            h.to_state,
            "; ".join(what)[:200],
        )
    return table
