"""``build_report``: stream the cases of a period through facts into tallies.

Memory holds one page of cases and the aggregates — tallies per group,
deadline counts, the repeat-inquiry window — never every case.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

from cswork.durations import parse_duration
from cswork.engine import Engine
from cswork.errors import DefinitionError, Problem
from cswork.records import Case
from cswork.report.config import ReportConfig
from cswork.report.cuts import CUTS, Cuts, Filters, Hours, RepeatTracker
from cswork.report.facts import CaseFacts, case_facts, count_deadlines
from cswork.report.model import CutRow, DeadlineStats, Report
from cswork.report.read import PAGE, stream
from cswork.report.tally import Tally, indicators, keys_of
from cswork.report.view import WorkflowView

MAX_EXAMPLES = 100


def build_report(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    workflow: str | None = None,
    person: str | None = None,
    unit: str | None = None,
    severity: str | None = None,
    channel: str | None = None,
    cuts: Sequence[str] = ("week", "person"),
    config: ReportConfig | None = None,
    page: int = PAGE,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """The report over the cases started in ``[since, until)`` (any time if None).

    Args:
        engine: where the cases, definitions and calendars come from.
        since: the period's start (aware), or None for no start.
        until: the period's end (aware, excluded), or None for no end.
        workflow: only cases of this workflow.
        person: only this person's cases, and only their own work.
        unit: only cases of this unit.
        severity: only cases of this severity.
        channel: only cases that came in through this channel.
        cuts: the groups to repeat every indicator for: ``day``, ``week``,
            ``month``, ``workflow``, ``person``, ``unit``, ``severity``,
            ``channel``.
        config: what the workflows' parts mean and the targets (defaults
            fit the shipped SOPs).
        page: cases read per query (each page's histories in one more).
        progress: called with the number of cases read so far, per page.

    Raises:
        ValueError: an unknown cut.
        DefinitionError: the config names a calendar the engine lacks.
    """
    cfg = config or ReportConfig()
    unknown = [c for c in cuts if c not in CUTS]
    if unknown:
        raise ValueError(f"unknown cut {unknown[0]!r}; choose from {', '.join(CUTS)}")
    if cfg.calendar not in engine.calendars:
        raise DefinitionError(
            [
                Problem(
                    "report config",
                    0,
                    0,
                    f"calendar {cfg.calendar!r} is not loaded",
                    f"loaded: {', '.join(sorted(engine.calendars))}",
                )
            ]
        )
    run = _Run(engine, cfg, since, until, list(cuts))
    run.filters = Filters(person=person, unit=unit, severity=severity, channel=channel)
    with _quiet_gc():
        run.read(workflow, page, progress)
    return run.finish(workflow)


@contextmanager
def _quiet_gc() -> Iterator[None]:
    """No cyclic garbage collection while counting.

    A report makes millions of small acyclic objects; the collector would
    walk every live one again and again for nothing (half the time, measured).
    """
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class _Run:
    """One report in the making."""

    engine: Engine
    cfg: ReportConfig
    since: datetime | None
    until: datetime | None
    cut_names: list[str]
    filters: Filters = field(default_factory=Filters)
    overall: Tally = field(default_factory=Tally)

    def __post_init__(self) -> None:
        self.calendar = self.engine.calendars[self.cfg.calendar]
        self.as_of = self.engine.clock.now()
        self.views: dict[tuple[str, int], WorkflowView] = {}
        self.cuts = Cuts(self.cut_names, self.calendar.tz)
        self.repeats = RepeatTracker(parse_duration(self.cfg.repeat_inquiry.window))
        self.report = Report(self.since, self.until, str(self.calendar.tz), self.as_of)
        self.deadline_counts: Counter[tuple[WorkflowView, str, str]] = Counter()
        self.unclassified: Counter[tuple[str, str]] = Counter()
        self._days: dict[int, date] = {}

    def read(
        self, workflow: str | None, page: int, progress: Callable[[int], None] | None
    ) -> None:
        """Read and count every case of the period (and of the look-back)."""
        cfg = self.cfg
        lookback = max(  # repeats look back a window; work a look-back
            parse_duration(cfg.lookback).wall(),
            parse_duration(cfg.repeat_inquiry.window).wall(),
        )
        read = 0
        for case, history in stream(
            self.engine.store,
            workflow=workflow,
            created_from=self.since - lookback if self.since is not None else None,
            created_before=self.until,
            page=page,
        ):
            self.add(case_facts(case, history, self.view(case), self.as_of))
            read += 1
            if progress is not None and read % page == 0:
                progress(read)
        if progress is not None:
            progress(read)

    def view(self, case: Case) -> WorkflowView:
        """The view of a case's workflow version (built once per version)."""
        key = (case.workflow_id, case.workflow_version)
        found = self.views.get(key)
        if found is None:
            wf = self.engine.definition(*key)
            cal = self.engine.calendars.get(wf.calendar, self.calendar)
            found = self.views[key] = WorkflowView(wf, self.cfg, cal)
        return found

    def add(self, f: CaseFacts) -> None:
        """Count one case's facts where they belong."""
        case = f.case
        if f.view.inquiry:
            f.repeat = self.repeats.seen(case.customer, f.topic, case.created_at)
        passes = self.filters.match(f)
        in_cohort = self.since is None or case.created_at >= self.since
        if passes and in_cohort:
            self.overall.add(f)
            self.cuts.add(f)
            self._tables(f)
        self._work(f, passes)
        if passes:
            self.cuts.unreached(f, self.report, self.cfg, self.since, self.until)

    def _work(self, f: CaseFacts, passes: bool) -> None:
        """Count who worked on the case during the period."""
        wanted = self.filters.person
        if wanted is None and not passes:
            return
        since, until, day = self.since, self.until, self._day
        days: dict[str, set[date]] = {}
        for actor, at in f.activity:
            if wanted is not None and actor != wanted:
                continue
            if (since is None or at >= since) and (until is None or at < until):
                found = days.get(actor)
                if found is None:
                    days[actor] = {day(at)}
                else:
                    found.add(day(at))
        for actor, dates in days.items():
            self.cuts.work(self.overall, actor, dates)

    def _day(self, at: datetime) -> date:
        """The local date of a moment in the report calendar's zone.

        Cached per quarter hour: every zone's offset is a multiple of 15
        minutes, so a quarter hour never straddles two local dates.
        """
        slot = int(at.timestamp()) // 900
        found = self._days.get(slot)
        if found is None:
            if len(self._days) > 4096:  # cases come in start order: keep it small
                self._days.clear()
            found = self._days[slot] = at.astimezone(self.calendar.tz).date()
        return found

    def _tables(self, f: CaseFacts) -> None:
        case, view, report = f.case, f.view, self.report
        report.total += 1
        outcome = f.outcome if f.outcome is not None else "open"
        counts = report.outcomes.get(case.workflow_id)
        if counts is None:
            counts = report.outcomes[case.workflow_id] = Counter()
        counts[outcome] += 1
        if f.outcome is not None and not f.outcome_listed and view.in_resolution:
            self.unclassified[(case.workflow_id, f.outcome)] += 1
        report.escalations[case.workflow_id] += f.escalations
        count_deadlines(f.history, view, self.deadline_counts)
        for at in f.breaches:
            local = at.astimezone(self.calendar.tz)
            report.breaches_by_hour[local.weekday()][local.hour] += 1
        if case.breaches:
            report.breached += 1
            if len(report.breached_cases) < MAX_EXAMPLES:
                report.breached_cases.append(case.id)
        if f.kind is not None:
            month = case.created_at.astimezone(view.tz).strftime("%Y-%m")
            report.by_type[(case.workflow_id, month, f.kind[1])] += 1
            report.type_fields.setdefault(case.workflow_id, f.kind[0])
        if f.review is not None:
            result, _, finding = f.review
            r = report.reviews
            r.completed += 1
            r.passed += f.review[1]
            r.results.setdefault(f.person, Counter())[result] += 1
            if finding:
                r.findings.setdefault(f.person, Counter())[finding] += 1

    def _deadline_table(self) -> list[DeadlineStats]:
        stats: dict[tuple[str, str], DeadlineStats] = {}
        for (view, name, what), n in self.deadline_counts.items():
            found = stats.get((view.id, name))
            if found is None:
                d = view.wf.deadlines.get(name)
                title = d.title if d is not None else ""
                found = stats[(view.id, name)] = DeadlineStats(view.id, name, title)
            attr = {"period_met": "periods_met", "period_missed": "periods_missed"}
            key = attr.get(what, what)
            setattr(found, key, getattr(found, key) + n)
        return sorted(stats.values(), key=lambda d: (d.workflow, d.deadline))

    def finish(self, workflow: str | None) -> Report:
        """The report, with indicators for everything and for every cut."""
        report, cfg = self.report, self.cfg
        given = {"workflow": workflow, **self.filters.as_dict()}
        report.filters = {k: v for k, v in given.items() if v is not None}
        report.deadlines = self._deadline_table()
        self.cuts.finish(self.overall)
        hours = Hours(self.calendar, self.since, self.until)
        keys = keys_of(self.overall, cfg, self.calendar.day_length)
        report.indicators = indicators(self.overall, cfg, keys, hours)
        for dim, groups in self.cuts.tallies.items():
            fn = hours if dim in ("person", "day", "week", "month") else None
            report.cuts[dim] = {
                k: CutRow(t.cases, indicators(t, cfg, keys, fn))
                for k, t in groups.items()
            }
        report.notes = self._notes()
        return report

    def _notes(self) -> list[str]:
        cfg, loaded = self.cfg, set(self.engine.workflows)
        notes = [
            f"outcome {outcome!r} of workflow {wf!r} ({n} case(s)) is in no outcome "
            f"class of the report config; counted as {cfg.outcomes.other}"
            for (wf, outcome), n in sorted(self.unclassified.items())
        ]
        for part, ids in (
            ("inquiries", cfg.workflows.inquiries),
            ("complaints", cfg.workflows.complaints),
        ):
            if not loaded & set(ids):
                notes.append(
                    f"no workflow counts as {part} (workflows.{part}: {ids}); "
                    "the indicators about them stay empty"
                )
        if self.overall.no_topic:
            notes.append(
                f"{self.overall.no_topic} inquiry(ies) carry none of the topic "
                "fields (repeat_inquiry.topic); they cannot count as repeats"
            )
        return notes
