"""Chart data for a report: plain Plotly figure dicts, drawn from the report's JSON.

``report_figures`` needs no plotting library: it returns ``{"data": [...],
"layout": {...}}`` dicts (Plotly's JSON figure format) built only from
``Report.as_dict()``, so a web console can send them to plotly.js as they
are, and every number in a chart is a number of the JSON report.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from cswork.report.model import Report

WEEKDAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
PERCENTILES = ("p50", "p90", "p99", "max")
_COLOURS = {True: "#2e7d32", False: "#c62828", None: "#9e9e9e"}

Figure = dict[str, Any]


def report_figures(report: Report | Mapping[str, Any]) -> dict[str, Figure]:
    """The report's charts as Plotly figure dicts, by name.

    Names: ``indicators`` (shares against targets), ``response_times``
    (percentiles per channel against the target), ``weekly`` (the shares per
    week), ``breaches`` (missed deadlines by weekday and hour), and
    ``productivity`` (cases per working hour per person).
    """
    data = report.as_dict() if isinstance(report, Report) else report
    figures = {
        "indicators": _indicators(data),
        "response_times": _response_times(data),
        "weekly": _weekly(data),
        "breaches": _breaches(data),
        "productivity": _productivity(data),
    }
    return figures


def _shares(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    return [
        i for i in data["indicators"] if i["unit"] == "share" and i["value"] is not None
    ]


def _bound(i: Mapping[str, Any]) -> float | None:
    bound: float | None = i["target_at_least"]
    return bound if bound is not None else i["target_at_most"]


def _indicators(data: Mapping[str, Any]) -> Figure:
    shares = _shares(data)
    targeted = [i for i in shares if _bound(i) is not None]
    return {
        "data": [
            {
                "type": "bar",
                "name": "value",
                "x": [i["name"] for i in shares],
                "y": [i["value"] for i in shares],
                "customdata": [i["key"] for i in shares],
                "marker": {"color": [_COLOURS[i["ok"]] for i in shares]},
            },
            {
                "type": "scatter",
                "mode": "markers",
                "name": "target",
                "x": [i["name"] for i in targeted],
                "y": [_bound(i) for i in targeted],
                "customdata": [i["key"] for i in targeted],
                "marker": {"symbol": "line-ew-open", "size": 30, "line": {"width": 3}},
            },
        ],
        "layout": {
            "title": {"text": "Indicators against their targets"},
            "yaxis": {"tickformat": ".0%", "range": [0, 1.05]},
            "xaxis": {"automargin": True},
            "height": 480,
        },
    }


def _response_times(data: Mapping[str, Any]) -> Figure:
    rows = [
        i
        for i in data["indicators"]
        if i["key"].startswith("response.") and i["detail"].get("answered")
    ]
    channels = [i["key"].removeprefix("response.") for i in rows]
    traces: list[dict[str, Any]] = [
        {
            "type": "bar",
            "name": p,
            "x": channels,
            "y": [i["detail"][p] for i in rows],
        }
        for p in PERCENTILES
    ]
    traces.append(
        {
            "type": "scatter",
            "mode": "markers",
            "name": "target",
            "x": channels,
            "y": [i["detail"].get("target_seconds") for i in rows],
            "marker": {"symbol": "line-ew-open", "size": 40, "line": {"width": 3}},
        }
    )
    return {
        "data": traces,
        "layout": {
            "title": {"text": "Response time per channel (seconds, log scale)"},
            "barmode": "group",
            "yaxis": {"type": "log", "title": {"text": "seconds"}},
        },
    }


def _weekly(data: Mapping[str, Any]) -> Figure:
    weeks = data["cuts"].get("week", {})
    names = sorted(weeks)
    traces = []
    for overall in _shares(data):
        by_week = [
            next(
                (
                    i["value"]
                    for i in weeks[w]["indicators"]
                    if i["key"] == overall["key"]
                ),
                None,
            )
            for w in names
        ]
        traces.append(
            {
                "type": "scatter",
                "mode": "lines+markers",
                "name": overall["name"],
                "x": names,
                "y": by_week,
                "customdata": [overall["key"]] * len(names),
            }
        )
    return {
        "data": traces,
        "layout": {
            "title": {"text": "Weekly trends (cases started that week)"},
            "yaxis": {"tickformat": ".0%"},
            "height": 520,
        },
    }


def _breaches(data: Mapping[str, Any]) -> Figure:
    return {
        "data": [
            {
                "type": "heatmap",
                "z": data["breaches_by_weekday_and_hour"],
                "x": [f"{h:02d}" for h in range(24)],
                "y": WEEKDAYS,
                "colorscale": "Reds",
            }
        ],
        "layout": {
            "title": {"text": f"Missed deadlines by weekday and hour ({data['zone']})"},
            "yaxis": {"autorange": "reversed"},
        },
    }


def _productivity(data: Mapping[str, Any]) -> Figure:
    people = data["cuts"].get("person", {})
    rows = []
    for person in sorted(people):
        for i in people[person]["indicators"]:
            if i["key"] == "productivity" and i["value"] is not None:
                rows.append((person, i))
    target = next(
        (_bound(i) for i in data["indicators"] if i["key"] == "productivity"), None
    )
    return {
        "data": [
            {
                "type": "bar",
                "name": "cases per working hour",
                "x": [p for p, _ in rows],
                "y": [i["value"] for _, i in rows],
                "marker": {"color": [_COLOURS[i["ok"]] for _, i in rows]},
            },
            {
                "type": "scatter",
                "mode": "lines",
                "name": "target",
                "x": [p for p, _ in rows],
                "y": [target] * len(rows),
            },
        ],
        "layout": {"title": {"text": "Cases handled per person per working hour"}},
    }
