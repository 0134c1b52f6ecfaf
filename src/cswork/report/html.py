"""One self-contained HTML file with the report's charts and tables.

It opens offline: plotly.js is inlined (``pip install 'cswork[report]'``),
and so is the data. Each chart's figure is a ``<script type=
"application/json">`` block built by ``report_figures`` from the report's
JSON, and the report's JSON itself is embedded too, so what the page shows
and what ``cswork report --json`` prints are the same numbers.
"""

from __future__ import annotations

import html
import json
import os
from collections.abc import Iterable, Sequence
from typing import Any

from cswork.errors import CsworkError
from cswork.report.figures import report_figures
from cswork.report.model import Report
from cswork.report.text import cut_columns, describe, header, short, value_text

INSTALL = "pip install 'cswork[report]'"

_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",sans-serif;
margin:2rem;color:#222;max-width:1400px}
table{border-collapse:collapse;margin:1rem 0;font-size:.9rem}
th,td{border:1px solid #ddd;padding:.3rem .6rem;text-align:left;vertical-align:top}
th{background:#f4f4f4}td.num{text-align:right}
.ok{color:#2e7d32}.bad{color:#c62828;font-weight:600}.chart{min-height:420px}
.note{color:#8a6d00}
"""

_DRAW = """
function failed(id, e) {
  var div = document.getElementById(id);
  if (div) { div.textContent = 'This chart could not be drawn: ' + e; }
}
document.querySelectorAll('script[data-chart]').forEach(function (s) {
  var id = s.getAttribute('data-chart');
  try {
    var f = JSON.parse(s.textContent);
    Promise.resolve(Plotly.newPlot(id, f.data, f.layout,
                                   {responsive: true, displaylogo: false}))
      .catch(function (e) { failed(id, e); });
  } catch (e) { failed(id, e); }  // one broken chart leaves the others drawn
});
"""


def _plotly() -> tuple[Any, Any]:
    try:
        import plotly.graph_objects as go  # type: ignore[import-untyped]
        import plotly.io as pio  # type: ignore[import-untyped]
    except ImportError as exc:
        raise CsworkError(f"writing the HTML report needs plotly: {INSTALL}") from exc
    return go, pio


def _safe_json(text: str) -> str:
    """JSON text that cannot close the ``<script>`` element it sits in."""
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_html(report: Report) -> str:
    """The report as one HTML document (needs plotly).

    Raises:
        CsworkError: plotly is not installed (the message says how to).
    """
    go, pio = _plotly()
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    data = report.as_dict()
    figures = report_figures(data)
    charts = {
        name: _safe_json(pio.to_json(go.Figure(fig), validate=True))
        for name, fig in figures.items()
    }
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>cswork quality report</title>",
        f"<style>{_STYLE}</style>",
        f"<script>{get_plotlyjs()}</script>",
        "</head><body>",
        "<h1>Quality report</h1>",
        f"<p>{html.escape(header(report))}</p>",
        *_body(report, data),
    ]
    for name, text in charts.items():
        parts.append(
            f'<script type="application/json" data-chart="chart-{name}" '
            f'id="figure-{name}">{text}</script>'
        )
    report_json = _safe_json(json.dumps(data, ensure_ascii=False))
    parts.append(
        f'<script type="application/json" id="cswork-report">{report_json}</script>'
    )
    parts += [f"<script>{_DRAW}</script>", "</body></html>"]
    return "\n".join(parts)


def write_html(report: Report, path: str | os.PathLike[str]) -> None:
    """Write the report as one self-contained HTML file (needs plotly).

    Raises:
        CsworkError: plotly is not installed, or the file cannot be written.
    """
    text = render_html(report)
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise CsworkError(f"cannot write {os.fspath(path)}: {exc}") from exc


def _chart(name: str) -> str:
    return f'<div class="chart" id="chart-{name}"></div>'


def _body(report: Report, data: dict[str, Any]) -> list[str]:
    out = [f'<p class="note">note: {html.escape(n)}</p>' for n in report.notes]
    out += ["<h2>Indicators against targets</h2>", _indicator_table(report)]
    out += [_chart("indicators"), _chart("response_times")]
    out += ["<h2>Weekly trends</h2>", _chart("weekly")]
    if "week" in report.cuts:
        out.append(_cut_table(report, "week"))
    out += ["<h2>Missed deadlines</h2>", _chart("breaches"), _deadline_table(report)]
    out += ["<h2>People</h2>", _chart("productivity")]
    if "person" in report.cuts:
        out.append(_cut_table(report, "person"))
    out += _reviews(report)
    for dim in report.cuts:
        if dim not in ("week", "person"):
            out += [f"<h2>By {html.escape(dim)}</h2>", _cut_table(report, dim)]
    out += ["<h2>Cases by type and month (003)</h2>", _by_type(data)]
    out += ["<h2>Cases by workflow and outcome</h2>", _outcomes(report)]
    out += _unreached(data)
    return out


def _table(headers: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in headers)
    body = []
    for row in rows:
        cells = []
        for cell in row:
            num = isinstance(cell, int | float) and not isinstance(cell, bool)
            cls = ' class="num"' if num else ""
            text = cell if isinstance(cell, _Raw) else html.escape(str(cell))
            cells.append(f"<td{cls}>{text}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return (
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"
    )


class _Raw(str):
    """Markup made here (already escaped)."""


def _met(ok: bool | None) -> _Raw:
    if ok is None:
        return _Raw("—")
    return _Raw('<span class="ok">yes</span>' if ok else '<span class="bad">no</span>')


def _indicator_table(report: Report) -> str:
    rows = [
        (i.name, value_text(i), i.target_text, _met(i.ok), describe(i),
         i.target.source if i.target is not None else "")
        for i in report.indicators
    ]  # fmt: skip
    return _table(["indicator", "value", "target", "met", "counts", "source"], rows)


def _cut_table(report: Report, dim: str) -> str:
    keys = cut_columns(report)
    headers = [dim, "cases"] + (["handled", "work h"] if dim == "person" else [])
    rows = []
    for name, row in sorted(report.cuts[dim].items()):
        by_key = {i.key: i for i in row.indicators}
        cells: list[object] = [name, row.cases]
        if dim == "person":
            d = by_key["productivity"].detail
            cells += [d.get("handled", 0), d.get("working_hours", 0)]
        cells += [value_text(by_key[k]) for k in keys]
        rows.append(cells)
    return _table(headers + [short(k) for k in keys], rows)


def _deadline_table(report: Report) -> str:
    rows = [
        (d.workflow, d.deadline, d.armed, d.met, d.breached, d.pending,
         d.periods_met, d.periods_missed,
         "—" if d.compliance is None else f"{d.compliance:.1%}")
        for d in report.deadlines
    ]  # fmt: skip
    return _table(
        ["workflow", "deadline", "armed", "met", "breached", "pending",
         "periods met", "periods missed", "compliance"],
        rows,
    )  # fmt: skip


def _reviews(report: Report) -> list[str]:
    r = report.reviews
    if not r.completed:
        return ["<p>No sampled reviews in the period.</p>"]
    people = sorted(set(r.results) | set(r.findings))
    rows = [
        (p, _counts(r.results.get(p, {})), _counts(r.findings.get(p, {})))
        for p in people
    ]
    return [
        f"<h3>Sampled reviews: {r.passed} of {r.completed} passed</h3>",
        _table(["person", "results", "findings"], rows),
    ]


def _counts(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {n}" for k, n in sorted(counts.items())) or "—"


def _by_type(data: dict[str, Any]) -> str:
    rows = [
        (r["workflow"], r["field"], r["month"], r["type"], r["cases"])
        for r in data["by_type_and_month"]
    ]
    return _table(["workflow", "field", "month", "type", "cases"], rows)


def _outcomes(report: Report) -> str:
    outcomes = sorted({o for c in report.outcomes.values() for o in c})
    rows = [
        (wf, *(counts.get(o, 0) for o in outcomes), sum(counts.values()),
         report.escalations.get(wf, 0))
        for wf, counts in sorted(report.outcomes.items())
    ]  # fmt: skip
    return _table(["workflow", *outcomes, "total", "escalations"], rows)


def _unreached(data: dict[str, Any]) -> list[str]:
    if not data["unreached"]:
        return []
    rows = [
        (month, r["customer"], r["case"], r["workflow"], r["attempts"],
         r["last_attempt"] or "—")
        for month, items in data["unreached"].items()
        for r in items
    ]  # fmt: skip
    return [
        "<h2>Customers not reached, by month (003)</h2>",
        _table(
            ["month", "customer", "case", "workflow", "attempts", "last attempt"], rows
        ),
    ]
