"""Rendering reports and histories for the terminal (rich) and for export."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.table import Table

from cswork.records import HistoryEntry
from cswork.report import Report

LOCAL = ZoneInfo("Asia/Shanghai")


def console() -> Console:
    """A console for tables: the terminal's width, or 140 columns when piped."""
    out = Console()
    return out if out.is_terminal else Console(width=140)


def _pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def report_tables(report: Report) -> list[Table]:
    """The report as rich tables."""
    cases = Table(title="Cases by workflow and outcome")
    outcomes = sorted({o for c in report.outcomes.values() for o in c})
    for col in ("workflow", *outcomes, "total", "escalations"):
        cases.add_column(col, justify="left" if col == "workflow" else "right")
    for wf, counts in sorted(report.outcomes.items()):
        cases.add_row(
            wf,
            *(str(counts.get(o, 0)) for o in outcomes),
            str(sum(counts.values())),
            str(report.escalations.get(wf, 0)),
        )
    deadlines = Table(title="Deadlines")
    for col in (
        "workflow",
        "deadline",
        "armed",
        "met",
        "breached",
        "pending",
        "periods met",
        "periods missed",
        "compliance",
    ):
        deadlines.add_column(
            col, justify="left" if col in ("workflow", "deadline") else "right"
        )
    for d in report.deadlines:
        deadlines.add_row(
            d.workflow,
            d.deadline,
            str(d.armed),
            str(d.met),
            str(d.breached),
            str(d.pending),
            str(d.periods_met),
            str(d.periods_missed),
            _pct(d.compliance),
        )
    by_type = Table(title="Cases by type and month (003)")
    for col in ("workflow", "month", "type", "cases"):
        by_type.add_column(col, justify="right" if col == "cases" else "left")
    for (wf, month, kind), n in sorted(report.by_type.items()):
        by_type.add_row(wf, month, kind, str(n))
    quality = Table(title="Quality indicators (sop-spec.md, 002 §9.1.2)")
    for col in ("indicator", "value", "target", "met"):
        quality.add_column(col)
    for i in report.indicators:
        value = (
            "—"
            if i.value is None
            else f"{i.value:.1f} s"
            if i.unit == "s"
            else _pct(i.value)
        )
        quality.add_row(
            i.name,
            value,
            i.target,
            "—" if i.ok is None else ("yes" if i.ok else "[red]no[/]"),
        )
    return [cases, deadlines, by_type, quality]


def print_report(console: Console, report: Report) -> None:
    """Print the report's tables."""
    for table in report_tables(report):
        console.print(table)


def report_csv(report: Report) -> str:
    """The report's deadline and indicator rows as CSV."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "workflow", "name", "value", "detail"])
    for wf, counts in sorted(report.outcomes.items()):
        for outcome, n in sorted(counts.items()):
            w.writerow(["cases", wf, outcome, n, ""])
    for d in report.deadlines:
        w.writerow(
            [
                "deadline",
                d.workflow,
                d.deadline,
                "" if d.compliance is None else f"{d.compliance:.4f}",
                (
                    f"armed={d.armed} met={d.met} breached={d.breached} "
                    f"periods_met={d.periods_met} periods_missed={d.periods_missed}"
                ),
            ]
        )
    for (wf, month, kind), n in sorted(report.by_type.items()):
        w.writerow(["by_type", wf, f"{month} {kind}", n, ""])
    for i in report.indicators:
        w.writerow(
            ["indicator", "", i.name, "" if i.value is None else i.value, i.target]
        )
    for agent, (cases, steps) in sorted(report.agents.items()):
        w.writerow(["agent", "", agent, cases, f"steps={steps}"])
    return out.getvalue()


def report_json(report: Report) -> str:
    """The report as JSON."""
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)


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
