"""The indicators page: the quality report of a month, for the scope chosen.

The figures are ``build_report``'s, over the cases started in the month and
visible in the scope (a unit's scope reports that unit; ``mine`` reports the
person's own work). The charts are the HTML report's (``report_figures``),
drawn by plotly.js when the ``report`` extra is installed — served by the
console from the plotly package's own copy, never a CDN; without it the
page shows the same numbers as tables.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from cswork.console.policy import Policy, Scope
from cswork.console.queues import ConsoleInputError, NotShownError
from cswork.engine import Engine
from cswork.records import Actor
from cswork.report import ReportConfig, build_report, report_figures
from cswork.report.text import describe, value_text

#: How a scope's filters become the report's.
_REPORT_FILTERS = {"owner": "person", "unit": "unit", "workflow": "workflow"}


def plotly_js() -> Path | None:
    """The plotly.js file of the installed plotly package, or None."""
    spec = importlib.util.find_spec("plotly")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "package_data"
    path = path / "plotly.min.js"
    return path if path.is_file() else None


def month_of(
    text: str | None, tz: ZoneInfo, now: datetime
) -> tuple[date, datetime, datetime]:
    """The month ``YYYY-MM`` (default: this month in ``tz``) and its bounds.

    Raises:
        ConsoleInputError: not a month.
    """
    if text:
        try:
            first = date.fromisoformat(f"{text}-01")
        except ValueError:
            raise ConsoleInputError(f"{text!r:.20} is not a month (YYYY-MM)") from None
    else:
        local = now.astimezone(tz)
        first = date(local.year, local.month, 1)
    nxt = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start = datetime(first.year, first.month, 1, tzinfo=tz)
    return first, start, datetime(nxt.year, nxt.month, 1, tzinfo=tz)


@dataclass(frozen=True)
class IndicatorsView:
    """What the indicators page shows.

    Attributes:
        month: the first day of the month reported.
        header: the period and filters, in words.
        total: cases counted.
        rows: per indicator: name, value, target, met (True/False/None),
            the counts behind it, the target's source.
        deadlines: per deadline: workflow, name, armed, met, breached,
            pending, compliance.
        figures: chart name → Plotly figure dict (``report_figures``).
        notes: what the reader should know.
    """

    month: date
    header: str
    total: int
    rows: list[tuple[str, str, str, bool | None, str, str]]
    deadlines: list[tuple[str, str, int, int, int, int, str]]
    figures: dict[str, dict[str, Any]]
    notes: list[str]


def indicators_view(
    engine: Engine,
    scope: Scope,
    month: str | None,
    config: ReportConfig | None,
) -> IndicatorsView:
    """The report of the month for the scope.

    Raises:
        ConsoleInputError: a bad month, or a scope the report cannot filter by.
    """
    cfg = config or ReportConfig()
    cal = engine.calendars.get(cfg.calendar, engine.calendars["default"])
    first, since, until = month_of(month, cal.tz, engine.clock.now())
    filters: dict[str, Any] = {}
    for key, value in scope.filters.items():
        if key not in _REPORT_FILTERS:
            raise ConsoleInputError(
                f"indicators cannot be shown for scope {scope.label}"
            )
        filters[_REPORT_FILTERS[key]] = value
    report = build_report(
        engine, since=since, until=until, cuts=("week", "person"), config=cfg, **filters
    )
    rows = [
        (i.name, value_text(i), i.target_text, i.ok, describe(i),
         i.target.source if i.target is not None else "")
        for i in report.indicators
    ]  # fmt: skip
    deadlines = [
        (d.workflow, d.deadline, d.armed, d.met, d.breached, d.pending,
         "—" if d.compliance is None else f"{d.compliance:.1%}")
        for d in report.deadlines
    ]  # fmt: skip
    header = (
        f"{first:%Y-%m} ({cal.tz.key}), {scope.label}: {report.total} cases started"
    )
    return IndicatorsView(
        month=first,
        header=header,
        total=report.total,
        rows=rows,
        deadlines=deadlines,
        figures=report_figures(report.as_dict()),
        notes=list(report.notes),
    )


def indicators_context(
    engine: Engine,
    policy: Policy,
    actor: Actor,
    args: Mapping[str, str],
    config: ReportConfig | None,
) -> dict[str, Any]:
    """The indicators page for the scope and month asked for.

    Raises:
        NotShownError: the policy does not show the indicators to the person.
        ConsoleInputError: a scope not theirs, or a bad month.
    """
    from cswork.console.pages import choose_scope

    if not policy.can_see_indicators(actor):
        raise NotShownError("The indicators are not shown to you.")
    scope, scopes = choose_scope(policy, actor, args.get("scope"))
    view = indicators_view(engine, scope, args.get("month"), config)
    return {"view": view, "scope": scope, "scopes": scopes}
