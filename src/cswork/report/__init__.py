"""Quality indicators from case histories (docs/indicators.md defines each one).

``build_report(engine, since=..., until=..., person=..., cuts=...)`` streams
the cases of a period with their histories and returns a ``Report``: the
indicators of sop-spec.md "Quality monitoring" against the targets of a
``ReportConfig`` (defaults from the seeds), the same indicators per cut
(week, person, unit, ...), deadline compliance, monthly counts by type,
unreached customers and sampled reviews. ``Report.as_dict()`` is its JSON
form; ``report_figures`` turns it into chart data and ``write_html`` into one
self-contained HTML file (``pip install 'cswork[report]'``).
"""

from __future__ import annotations

from cswork.report.build import build_report
from cswork.report.config import ReportConfig, load_report_config, parse_report_config
from cswork.report.model import CutRow, DeadlineStats, Indicator, Report, Reviews

__all__ = [
    "CutRow",
    "DeadlineStats",
    "Indicator",
    "Report",
    "ReportConfig",
    "Reviews",
    "build_report",
    "load_report_config",
    "parse_report_config",
]
