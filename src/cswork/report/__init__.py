"""Quality indicators from case histories (docs/indicators.md defines each one).

``build_report(engine, since=..., until=..., person=..., cuts=...)`` streams
the cases of a period with their histories and returns a ``Report``: the
indicators of sop-spec.md "Quality monitoring" against the targets of a
``ReportConfig`` (defaults from the seeds), the same indicators per cut
(week, person, unit, ...), deadline compliance, monthly counts by type,
unreached customers and sampled reviews. ``Report.as_dict()`` is its JSON
form; ``report_figures`` turns it into chart data and ``write_html`` into one
self-contained HTML file (``pip install 'cswork[report]'``; plotly is
imported only then). ``sample_cases`` draws closed cases for review and
``start_reviews`` starts the review cases.
"""

from __future__ import annotations

from cswork.report.build import build_report
from cswork.report.config import ReportConfig, load_report_config, parse_report_config
from cswork.report.figures import report_figures
from cswork.report.html import render_html, write_html
from cswork.report.model import CutRow, DeadlineStats, Indicator, Report, Reviews
from cswork.report.sample import Sampled, sample_cases, start_reviews

__all__ = [
    "CutRow",
    "DeadlineStats",
    "Indicator",
    "Report",
    "ReportConfig",
    "Reviews",
    "Sampled",
    "build_report",
    "load_report_config",
    "parse_report_config",
    "render_html",
    "report_figures",
    "sample_cases",
    "start_reviews",
    "write_html",
]
