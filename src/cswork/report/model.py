"""The report as values: indicators, tables, cuts, and its JSON form.

``Report.as_dict`` is the one JSON form of a report; the terminal tables, the
CSV, the HTML charts and ``cswork report --json`` are all drawn from it (or
from the same attributes), so they cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from cswork.records import JSON
from cswork.report.config import Target

Unit = Literal["share", "per_hour", "seconds"]


@dataclass(frozen=True, slots=True)
class Indicator:
    """One quality indicator, its value and its target.

    Attributes:
        key: a stable id such as ``response.phone`` or ``resolution_rate``.
        name: what it is, for people.
        value: the figure (a share 0–1, cases per hour, or seconds); None
            when nothing was counted.
        unit: ``share``, ``per_hour`` or ``seconds``.
        target: the target from the report config, if any.
        n: how many observations the value rests on (its denominator).
        detail: the counts behind it (and percentiles for times).
    """

    key: str
    name: str
    value: float | None
    unit: Unit
    target: Target | None = None
    n: int = 0
    detail: dict[str, JSON] = field(default_factory=dict)

    @property
    def ok(self) -> bool | None:
        """Whether the target is met (None without a target or a value)."""
        return None if self.target is None else self.target.met(self.value)

    @property
    def target_text(self) -> str:
        """The target as text, e.g. ``≥ 95 %``."""
        t = self.target
        if t is None:
            return "—"
        op, bound = ("≥", t.at_least) if t.at_least is not None else ("≤", t.at_most)
        assert bound is not None  # noqa: S101 - a target has one bound
        if self.unit == "share":
            return f"{op} {bound * 100:g} %"
        return f"{op} {bound:g}" + (" /h" if self.unit == "per_hour" else " s")

    def as_dict(self) -> dict[str, JSON]:
        """JSON-friendly form."""
        t = self.target
        return {
            "key": self.key,
            "name": self.name,
            "value": self.value,
            "unit": self.unit,
            "target": self.target_text,
            "target_at_least": None if t is None else t.at_least,
            "target_at_most": None if t is None else t.at_most,
            "source": "" if t is None else t.source,
            "ok": self.ok,
            "n": self.n,
            "detail": self.detail,
        }


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

    def as_dict(self) -> dict[str, JSON]:
        """JSON-friendly form."""
        return {
            "workflow": self.workflow,
            "deadline": self.deadline,
            "armed": self.armed,
            "met": self.met,
            "breached": self.breached,
            "pending": self.pending,
            "periods_met": self.periods_met,
            "periods_missed": self.periods_missed,
            "compliance": self.compliance,
        }


@dataclass
class CutRow:
    """The figures of one value of a cut (one person, one week, ...)."""

    cases: int
    indicators: list[Indicator]

    def as_dict(self) -> dict[str, JSON]:
        """JSON-friendly form."""
        return {
            "cases": self.cases,
            "indicators": [i.as_dict() for i in self.indicators],
        }


@dataclass
class Reviews:
    """Outcomes of sampled reviews (随机抽查) in the period."""

    completed: int = 0
    passed: int = 0
    results: dict[str, Counter[str]] = field(default_factory=dict)  # person →
    findings: dict[str, Counter[str]] = field(default_factory=dict)  # person →

    def as_dict(self) -> dict[str, JSON]:
        """JSON-friendly form."""
        people = sorted(set(self.results) | set(self.findings))
        return {
            "completed": self.completed,
            "passed": self.passed,
            "pass_rate": self.passed / self.completed if self.completed else None,
            "by_person": {
                p: {
                    "results": dict(sorted(self.results.get(p, Counter()).items())),
                    "findings": dict(sorted(self.findings.get(p, Counter()).items())),
                }
                for p in people
            },
        }


@dataclass
class Report:
    """A report over the cases started in a period.

    Attributes:
        since, until: the period (cases started in ``[since, until)``).
        zone: the time zone periods and months are counted in.
        as_of: when the report was made (calls still waiting are judged then).
        filters: the filters applied (workflow, person, unit, ...).
        total: cases counted.
        outcomes: workflow → outcome (or ``open``) → cases.
        deadlines: per deadline: armed, met, breached, compliance.
        escalations: workflow → steps tagged as escalations.
        indicators: the quality indicators over every case counted.
        cuts: dimension → value → the same indicators for those cases.
        by_type: (workflow, month, type) → cases (003: complaints by type
            each month); ``type_fields`` names the field per workflow.
        breaches_by_hour: missed deadlines by weekday (0 = Monday) and hour.
        breached: cases with a missed deadline; ``breached_cases`` the first
            hundred of them.
        unreached: month → customers not reached that month (003).
        reviews: the outcomes of sampled reviews.
        notes: what the reader should know (unclassified outcomes, ...).
    """

    since: datetime | None
    until: datetime | None
    zone: str = "UTC"
    as_of: datetime | None = None
    filters: dict[str, str] = field(default_factory=dict)
    total: int = 0
    outcomes: dict[str, Counter[str]] = field(default_factory=dict)
    deadlines: list[DeadlineStats] = field(default_factory=list)
    escalations: Counter[str] = field(default_factory=Counter)
    indicators: list[Indicator] = field(default_factory=list)
    cuts: dict[str, dict[str, CutRow]] = field(default_factory=dict)
    by_type: Counter[tuple[str, str, str]] = field(default_factory=Counter)
    type_fields: dict[str, str] = field(default_factory=dict)
    breaches_by_hour: list[list[int]] = field(
        default_factory=lambda: [[0] * 24 for _ in range(7)]
    )
    breached: int = 0
    breached_cases: list[str] = field(default_factory=list)
    unreached: dict[str, list[dict[str, JSON]]] = field(default_factory=dict)
    reviews: Reviews = field(default_factory=Reviews)
    notes: list[str] = field(default_factory=list)

    def indicator(self, key: str) -> Indicator:
        """The overall indicator with this key.

        Raises:
            KeyError: no such indicator.
        """
        for i in self.indicators:
            if i.key == key:
                return i
        raise KeyError(key)

    def as_dict(self) -> dict[str, Any]:
        """The report as JSON-friendly data."""
        return {
            "since": self.since.isoformat() if self.since else None,
            "until": self.until.isoformat() if self.until else None,
            "zone": self.zone,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "filters": dict(self.filters),
            "total_cases": self.total,
            "cases": {
                wf: dict(sorted(c.items())) for wf, c in sorted(self.outcomes.items())
            },
            "indicators": [i.as_dict() for i in self.indicators],
            "deadlines": [d.as_dict() for d in self.deadlines],
            "escalations": dict(sorted(self.escalations.items())),
            "by_type_and_month": [
                {
                    "workflow": wf,
                    "month": month,
                    "field": self.type_fields.get(wf, ""),
                    "type": kind,
                    "cases": n,
                }
                for (wf, month, kind), n in sorted(self.by_type.items())
            ],
            "breaches_by_weekday_and_hour": [list(r) for r in self.breaches_by_hour],
            "breached_cases": self.breached,
            "breached_examples": list(self.breached_cases),
            "unreached": {m: list(rows) for m, rows in sorted(self.unreached.items())},
            "reviews": self.reviews.as_dict(),
            "cuts": {
                dim: {k: row.as_dict() for k, row in sorted(rows.items())}
                for dim, rows in self.cuts.items()
            },
            "notes": list(self.notes),
        }
