"""Quality indicators computed from case histories (sop-spec.md "Quality monitoring").

Everything here is read from what the store kept — cases and their histories —
so a report can be made at any time, by any process, for any period:

- cases by workflow and outcome (the final state's ``outcome``, or ``open``);
- per deadline: armed, met (met by an event or left in time), breached,
  pending, and the compliance rate; per recurring obligation: periods met
  and missed;
- escalations (steps tagged ``escalation``);
- call response time: from the start of a phone inquiry to its first step
  tagged ``first_response`` (002 §9.1.2 target: ≤ 30 s);
- complaint handling timeliness: share of complaints without a missed deadline;
- resolution rate: share of closed cases whose outcome is ``resolved``
  (target ≥ 95 %); reopen rate: share of resolved-at-least-once cases that
  were reopened; repeat-inquiry rate: inquiries from a customer who asked
  before within 7 days (target ≤ 5 %);
- per agent: cases touched and steps taken;
- cases by workflow, month and ``type`` (003: complaints counted by type each month).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from cswork.definition.model import Workflow
from cswork.engine import Engine
from cswork.records import SYSTEM_ACTOR, Case, HistoryEntry

REPEAT_WINDOW = timedelta(days=7)
LOCAL = ZoneInfo("Asia/Shanghai")  # months are counted in the business's local time


@dataclass
class DeadlineStats:
    """How one deadline of one workflow fared."""

    workflow: str
    deadline: str
    title: str
    armed: int = 0
    met: int = 0
    breached: int = 0
    periods_met: int = 0
    periods_missed: int = 0

    @property
    def pending(self) -> int:
        """One-shot deadlines armed and neither met nor breached yet."""
        if self.periods_met or self.periods_missed:
            return 0
        return max(self.armed - self.met - self.breached, 0)

    @property
    def compliance(self) -> float | None:
        """Share met among those decided (periods count for recurring ones)."""
        good = self.met + self.periods_met
        total = good + self.breached + self.periods_missed
        return good / total if total else None


@dataclass
class Indicator:
    """A quality indicator with its target (as text) and whether it is met."""

    name: str
    value: float | None
    unit: str
    target: str
    ok: bool | None


@dataclass
class Report:
    """The report for one period."""

    since: datetime | None
    until: datetime | None
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    deadlines: list[DeadlineStats] = field(default_factory=list)
    escalations: Counter[str] = field(default_factory=Counter)
    indicators: list[Indicator] = field(default_factory=list)
    agents: dict[str, tuple[int, int]] = field(default_factory=dict)
    breached_cases: list[str] = field(default_factory=list)
    by_type: Counter[tuple[str, str, str]] = field(default_factory=Counter)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-friendly data."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "cases": {
                wf: dict(sorted(c.items())) for wf, c in sorted(self.outcomes.items())
            },
            "deadlines": [
                {
                    "workflow": d.workflow,
                    "deadline": d.deadline,
                    "armed": d.armed,
                    "met": d.met,
                    "breached": d.breached,
                    "pending": d.pending,
                    "periods_met": d.periods_met,
                    "periods_missed": d.periods_missed,
                    "compliance": d.compliance,
                }
                for d in self.deadlines
            ],
            "escalations": dict(sorted(self.escalations.items())),
            "indicators": [
                {
                    "name": i.name,
                    "value": i.value,
                    "unit": i.unit,
                    "target": i.target,
                    "ok": i.ok,
                }
                for i in self.indicators
            ],
            "by_type_and_month": [
                {"workflow": wf, "month": month, "type": kind, "cases": n}
                for (wf, month, kind), n in sorted(self.by_type.items())
            ],
            "agents": {
                a: {"cases": c, "steps": s} for a, (c, s) in sorted(self.agents.items())
            },
        }


def build_report(
    engine: Engine,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    workflow: str | None = None,
) -> Report:
    """Compute the report from the engine's store (cases started in the period)."""
    cases = [
        c
        for c in engine.query(workflow=workflow)
        if (since is None or c.created_at >= since)
        and (until is None or c.created_at < until)
    ]
    histories = {c.id: engine.history(c.id) for c in cases}
    definitions = {
        (c.workflow_id, c.workflow_version): engine.definition(
            c.workflow_id, c.workflow_version
        )
        for c in cases
    }
    report = Report(since, until)
    stats: dict[tuple[str, str], DeadlineStats] = {}
    for c in cases:
        wf = definitions[(c.workflow_id, c.workflow_version)]
        outcome = (wf.states[c.state].outcome or c.state) if c.closed else "open"
        report.outcomes.setdefault(c.workflow_id, Counter())[outcome] += 1
        _count_deadlines(wf, histories[c.id], stats)
        report.escalations[c.workflow_id] += sum(
            1 for h in histories[c.id] if _tagged(wf, h, "escalation")
        )
        if c.breaches:
            report.breached_cases.append(c.id)
        kind = c.data.get("type")
        if isinstance(kind, str):  # 003: complaints are counted by type each month
            month = c.created_at.astimezone(LOCAL).strftime("%Y-%m")
            report.by_type[(c.workflow_id, month, kind)] += 1
    report.deadlines = sorted(stats.values(), key=lambda d: (d.workflow, d.deadline))
    report.indicators = _indicators(cases, histories, definitions)
    report.agents = _agents(histories.values())
    return report


def _tagged(wf: Workflow, h: HistoryEntry, tag: str) -> bool:
    if h.kind != "event":
        return False
    return any(
        t.event == h.event
        and tag in t.tags
        and (h.from_state in t.from_ or "*" in t.from_)
        and (t.to or h.from_state) == h.to_state
        for t in wf.transitions
    )


def _count_deadlines(
    wf: Workflow,
    history: Sequence[HistoryEntry],
    stats: dict[tuple[str, str], DeadlineStats],
) -> None:
    def get(name: str) -> DeadlineStats:
        key = (wf.workflow, name)
        if key not in stats:
            title = wf.deadlines[name].title if name in wf.deadlines else ""
            stats[key] = DeadlineStats(wf.workflow, name, title)
        return stats[key]

    for h in history:
        armed = set(_names(h.detail.get("armed")))
        ended = set(_names(h.detail.get("met"))) | set(
            _names(h.detail.get("cancelled"))
        )
        rearmed = armed & ended  # an appointment moved: neither met nor new
        for name in armed - rearmed:
            get(name).armed += 1
        for name in ended - rearmed:
            if name in wf.deadlines and wf.deadlines[name].every is None:
                get(name).met += 1  # met by its event, or its scope left in time
        if h.kind == "deadline":
            get(h.event).breached += 1
        elif h.kind == "period":
            if h.detail.get("outcome") == "met":
                get(h.event).periods_met += 1
            else:
                get(h.event).periods_missed += 1


def _names(value: object) -> list[str]:
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _indicators(
    cases: Sequence[Case],
    histories: dict[str, list[HistoryEntry]],
    definitions: dict[tuple[str, int], Workflow],
) -> list[Indicator]:
    out = []
    calls = [c for c in cases if c.data.get("channel") == "phone"]
    response = _response_times(calls, histories, definitions)
    median = statistics.median(response) if response else None
    out.append(
        Indicator(
            "call response time (median)",
            median,
            "s",
            "≤ 30 s",
            None if median is None else median <= 30,
        )
    )
    complaints = [c for c in cases if c.workflow_id == "complaint"]
    timely = (
        sum(1 for c in complaints if c.breaches == 0) / len(complaints)
        if complaints
        else None
    )
    out.append(
        Indicator(
            "complaint handling timeliness",
            timely,
            "%",
            "100 %",
            None if timely is None else timely >= 1.0,
        )
    )
    closed = [c for c in cases if c.closed]
    resolved = [
        c
        for c in closed
        if definitions[(c.workflow_id, c.workflow_version)].states[c.state].outcome
        == "resolved"
    ]
    rate = len(resolved) / len(closed) if closed else None
    out.append(
        Indicator(
            "resolution rate",
            rate,
            "%",
            "≥ 95 %",
            None if rate is None else rate >= 0.95,
        )
    )
    reopened, ever_resolved = 0, 0
    for c in cases:
        wf = definitions[(c.workflow_id, c.workflow_version)]
        hist = histories[c.id]
        if any(_tagged(wf, h, "resolve") for h in hist):
            ever_resolved += 1
            reopened += any(_tagged(wf, h, "reopen") for h in hist)
    reopen = reopened / ever_resolved if ever_resolved else None
    out.append(Indicator("reopen rate", reopen, "%", "—", None))
    repeat = _repeat_rate([c for c in cases if c.workflow_id == "inquiry"])
    out.append(
        Indicator(
            "repeat-inquiry rate",
            repeat,
            "%",
            "≤ 5 %",
            None if repeat is None else repeat <= 0.05,
        )
    )
    return out


def _response_times(
    cases: Sequence[Case],
    histories: dict[str, list[HistoryEntry]],
    definitions: dict[tuple[str, int], Workflow],
) -> list[float]:
    times = []
    for c in cases:
        if c.workflow_id != "inquiry":
            continue
        wf = definitions[(c.workflow_id, c.workflow_version)]
        first = next(
            (h for h in histories[c.id] if _tagged(wf, h, "first_response")), None
        )
        if first is not None:
            times.append((first.at - c.created_at).total_seconds())
    return times


def _repeat_rate(inquiries: Sequence[Case]) -> float | None:
    if not inquiries:
        return None
    last: dict[str, datetime] = {}
    repeats = 0
    for c in sorted(inquiries, key=lambda c: c.created_at):
        if c.customer is not None:
            seen = last.get(c.customer)
            repeats += seen is not None and c.created_at - seen <= REPEAT_WINDOW
            last[c.customer] = c.created_at
    return repeats / len(inquiries)


def _agents(histories: Iterable[list[HistoryEntry]]) -> dict[str, tuple[int, int]]:
    cases: dict[str, set[str]] = defaultdict(set)
    steps: Counter[str] = Counter()
    for hist in histories:
        for h in hist:
            if h.actor != SYSTEM_ACTOR.id and h.kind in ("start", "event"):
                cases[h.actor].add(h.case_id)
                steps[h.actor] += 1
    return {a: (len(cases[a]), steps[a]) for a in cases}
