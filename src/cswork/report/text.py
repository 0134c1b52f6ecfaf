"""The report as text: rich tables for the terminal, and CSV (no extra dependency)."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from typing import Any

from rich.table import Table

from cswork.report.model import CutRow, Indicator, Report

SHORT = {
    "complaint_timeliness": "timely",
    "resolution_rate": "resolved",
    "reopen_rate": "reopened",
    "repeat_inquiry_rate": "repeat",
    "satisfaction": "satisfied",
    "productivity": "/h",
    "review_pass_rate": "reviews ok",
}


def short(key: str) -> str:
    """A column heading for an indicator key (``response.phone`` → ``phone``)."""
    if key.startswith("response."):
        return key.removeprefix("response.")
    if key.startswith("first_contact."):
        return "1st " + key.removeprefix("first_contact.")
    return SHORT.get(key, key)


def seconds_text(secs: float | None) -> str:
    """A duration for people: ``25 s``, ``4.5 min``, ``2.3 h``, ``1.5 d``."""
    if secs is None:
        return "—"
    if secs < 120:
        return f"{secs:g} s"
    if secs < 7200:
        return f"{secs / 60:.1f} min"
    if secs < 172800:
        return f"{secs / 3600:.1f} h"
    return f"{secs / 86400:.1f} d"


def value_text(i: Indicator) -> str:
    """The indicator's value for people."""
    if i.value is None:
        return "—"
    if i.unit == "share":
        return f"{i.value:.1%}"
    if i.unit == "per_hour":
        return f"{i.value:.2f} /h"
    return seconds_text(i.value)


def describe(i: Indicator) -> str:
    """The counts behind an indicator, in one line."""
    d = i.detail
    times = " · ".join(
        f"{p} {seconds_text(d[p])}"  # type: ignore[arg-type]
        for p in ("p50", "p90", "p99", "max")
        if d.get(p) is not None
    )
    if i.key.startswith("response."):
        text = f"{d.get('answered', 0)} answered, {d.get('within', 0)} in time"
        if d.get("unanswered_late"):
            text += f", {d['unanswered_late']} unanswered past target"
        return f"{text}; {times}" if times else text
    if i.key.startswith("first_contact."):
        text = f"{d.get('met', 0)} met, {d.get('breached', 0)} late"
        if d.get("ended_without_contact"):
            text += f", {d['ended_without_contact']} closed before contact"
        return f"{text}; to contact {times}" if times else text
    if i.key == "productivity":
        if not d:
            return "not divisible by this cut"
        hours = float(d.get("working_hours") or 0)  # type: ignore[arg-type]
        return (
            f"{d.get('handled', 0)} cases in {hours:g} working h, "
            f"{d.get('people', 0)} person(s)"
        )
    return ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in d.items())


def _ok(i: Indicator) -> str:
    return "—" if i.ok is None else ("yes" if i.ok else "[red]no[/]")


def indicator_table(report: Report, title: str = "Quality indicators") -> Table:
    """The indicators with their targets, counts and sources."""
    table = Table(title=title)
    for col in ("indicator", "value", "target", "met", "counts", "source"):
        table.add_column(col, overflow="fold")
    for i in report.indicators:
        source = i.target.source if i.target is not None else ""
        table.add_row(i.name, value_text(i), i.target_text, _ok(i), describe(i), source)
    return table


def cut_columns(report: Report) -> list[str]:
    """The indicators a cut table shows: those with a value over all cases."""
    return [i.key for i in report.indicators if i.value is not None]


def cut_table(report: Report, dim: str, rows: dict[str, CutRow]) -> Table:
    """One row per value of a cut, one column per indicator with data."""
    shown = cut_columns(report)
    table = Table(title=f"By {dim}")
    table.add_column(dim, overflow="fold")
    table.add_column("cases", justify="right")
    extra = dim == "person"
    if extra:
        table.add_column("handled", justify="right")
        table.add_column("work h", justify="right")
    for key in shown:
        table.add_column(short(key), justify="right")
    for name, row in sorted(rows.items()):
        by_key = {i.key: i for i in row.indicators}
        cells = [name, str(row.cases)]
        if extra:
            d = by_key["productivity"].detail
            cells += [str(d.get("handled", 0)), f"{d.get('working_hours', 0):g}"]
        cells += [value_text(by_key[k]) for k in shown]
        table.add_row(*cells)
    return table


def report_tables(report: Report) -> list[Table]:
    """The whole report as rich tables."""
    tables = [indicator_table(report)]
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
    tables.append(cases)
    tables.append(_deadline_table(report))
    by_type = Table(title="Cases by type and month (003)")
    for col in ("workflow", "field", "month", "type", "cases"):
        by_type.add_column(col, justify="right" if col == "cases" else "left")
    for (wf, month, kind), n in sorted(report.by_type.items()):
        by_type.add_row(wf, report.type_fields.get(wf, ""), month, kind, str(n))
    tables.append(by_type)
    tables += [cut_table(report, dim, rows) for dim, rows in report.cuts.items()]
    tables += _unreached_tables(report) + _review_tables(report)
    return tables


def _deadline_table(report: Report) -> Table:
    table = Table(title="Deadlines")
    cols = ("workflow", "deadline", "armed", "met", "breached", "pending",
            "periods met", "periods missed", "compliance")  # fmt: skip
    for col in cols:
        table.add_column(
            col, justify="left" if col in ("workflow", "deadline") else "right"
        )
    for d in report.deadlines:
        compliance = "—" if d.compliance is None else f"{d.compliance:.1%}"
        table.add_row(
            d.workflow, d.deadline, str(d.armed), str(d.met), str(d.breached),
            str(d.pending), str(d.periods_met), str(d.periods_missed), compliance,
        )  # fmt: skip
    return table


def _unreached_tables(report: Report) -> list[Table]:
    if not report.unreached:
        return []
    table = Table(title="Customers not reached, by month (003: listed the month after)")
    for col in ("month", "customer", "case", "workflow", "attempts", "last attempt"):
        table.add_column(col, overflow="fold")
    for month, rows in sorted(report.unreached.items()):
        for r in rows:
            table.add_row(
                month, str(r["customer"]), str(r["case"]), str(r["workflow"]),
                str(r["attempts"]), str(r["last_attempt"] or "—"),
            )  # fmt: skip
    return [table]


def _review_tables(report: Report) -> list[Table]:
    r = report.reviews
    if not r.completed:
        return []
    rate = f"{r.passed / r.completed:.1%}"
    table = Table(title=f"Sampled reviews: {r.passed} of {r.completed} passed ({rate})")
    for col in ("person", "results", "findings"):
        table.add_column(col, overflow="fold")
    for person in sorted(set(r.results) | set(r.findings)):
        table.add_row(
            person,
            _counts(r.results.get(person, {})),
            _counts(r.findings.get(person, {})),
        )
    return [table]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "—"


def header(report: Report) -> str:
    """One line saying what the report covers."""
    since = report.since.isoformat() if report.since else "the first case"
    until = report.until.isoformat() if report.until else "now"
    text = f"Cases started from {since} to {until} (zone {report.zone}): {report.total}"
    if report.filters:
        text += "; " + ", ".join(f"{k}={v}" for k, v in report.filters.items())
    return text


def report_csv(report: Report) -> str:
    """The report's rows as CSV: section, workflow, name, value, detail."""
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(["section", "workflow", "name", "value", "detail"])
    for wf, counts in sorted(report.outcomes.items()):
        for outcome, n in sorted(counts.items()):
            w.writerow(["cases", wf, outcome, n, ""])
    for d in report.deadlines:
        compliance = "" if d.compliance is None else f"{d.compliance:.4f}"
        tally = (
            f"armed={d.armed} met={d.met} breached={d.breached} "
            f"periods_met={d.periods_met} periods_missed={d.periods_missed}"
        )
        w.writerow(["deadline", d.workflow, d.deadline, compliance, tally])
    for (wf, month, kind), n in sorted(report.by_type.items()):
        w.writerow(["by_type", wf, f"{month} {kind}", n, ""])
    _indicator_rows(w, "indicator", "", report.indicators)
    for dim, rows in report.cuts.items():
        for name, row in sorted(rows.items()):
            _indicator_rows(w, f"cut:{dim}", name, row.indicators)
    return out.getvalue()


def _indicator_rows(
    w: Any, section: str, group: str, items: Sequence[Indicator]
) -> None:
    for i in items:
        value = "" if i.value is None else i.value
        detail = json.dumps(i.detail, ensure_ascii=False)
        w.writerow([section, group, i.key, value, detail])


def report_json(report: Report) -> str:
    """The report as JSON (``Report.as_dict``)."""
    return json.dumps(report.as_dict(), ensure_ascii=False, indent=2)
