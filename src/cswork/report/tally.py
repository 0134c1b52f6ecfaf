"""Counting cases into indicators: one ``Tally`` per group (everything, a person, a week).

Every group is counted by the same code and turned into indicators by the
same function, so a figure means the same in the overall table, in a cut,
in the JSON and in the charts (docs/indicators.md defines each one).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from cswork.records import JSON
from cswork.report.config import ReportConfig, Target
from cswork.report.facts import CaseFacts
from cswork.report.model import Indicator
from cswork.report.stats import Distribution, ratio

#: Working hours of a person who worked on these local dates.
HoursFn = Callable[[Iterable[date]], float]


@dataclass
class _Channel:
    times: Distribution = field(default_factory=Distribution)
    within: int = 0
    missed: int = 0  # unanswered past the target
    pending: int = 0  # unanswered, still within the target (not counted)


@dataclass
class _Contact:
    times: Distribution = field(default_factory=Distribution)
    statuses: Counter[str] = field(default_factory=Counter)
    deadlines: set[str] = field(default_factory=set)


@dataclass
class Tally:
    """What a group of cases adds up to; bounded by groups, not by cases."""

    cases: int = 0
    channels: dict[str, _Channel] = field(default_factory=dict)
    contacts: dict[str, _Contact] = field(default_factory=dict)
    complaints: Counter[str] = field(default_factory=Counter)
    classes: Counter[str] = field(default_factory=Counter)
    resolved_ever: int = 0
    reopened: int = 0
    inquiries: int = 0
    repeats: int = 0
    no_topic: int = 0
    rated: int = 0
    satisfied: int = 0
    handled: Counter[str] = field(default_factory=Counter)
    days: dict[str, set[date]] = field(default_factory=dict)
    reviews: int = 0
    passed: int = 0

    def add(self, f: CaseFacts) -> None:
        """Count one case (its cohort figures; work is counted by ``work``)."""
        self.cases += 1
        r = f.response
        if r is not None:
            ch = self.channels.get(r.channel)
            if ch is None:
                ch = self.channels[r.channel] = _Channel()
            if r.status == "answered":
                ch.times.add(r.seconds, r.key)  # type: ignore[arg-type]
                ch.within += bool(r.within)
            elif r.status == "missed":
                ch.missed += 1
            else:
                ch.pending += 1
        if f.first_contacts:
            self._contacts(f)
        if f.complaint is not None:
            self.complaints[f.complaint] += 1
        if f.view.in_resolution:
            self.classes[f.outcome_class] += 1
        if f.resolved_ever:
            self.resolved_ever += 1
            self.reopened += f.reopened
        if f.view.inquiry:
            self.inquiries += 1
            self.repeats += f.repeat
            self.no_topic += f.topic is None
        if f.satisfied is not None:
            self.rated += 1
            self.satisfied += f.satisfied
        if f.review is not None:
            self.reviews += 1
            self.passed += f.review[1]

    def _contacts(self, f: CaseFacts) -> None:
        c = self.contacts.get(f.severity)
        if c is None:
            c = self.contacts[f.severity] = _Contact()
        for fc in f.first_contacts:
            c.statuses[fc.status] += 1
            c.deadlines.add(fc.deadline)
            if fc.seconds is not None:
                c.times.add(fc.seconds)

    def work(self, person: str, days: set[date]) -> None:
        """Count one case ``person`` worked on, on these local dates."""
        self.handled[person] += 1
        known = self.days.get(person)
        if known is None:
            self.days[person] = set(days)
        else:
            known |= days


@dataclass(frozen=True)
class Keys:
    """The channels and severities every group lists (so tables line up).

    ``day_length`` is the report calendar's working day, for targets in days.
    """

    channels: list[str]
    severities: list[str]
    day_length: timedelta = timedelta(hours=8)


def keys_of(t: Tally, cfg: ReportConfig, day_length: timedelta) -> Keys:
    """The configured channels plus any seen, and the severities seen."""
    seen = [c for c in sorted(t.channels) if c not in cfg.response.channels]
    return Keys([*cfg.response.channels, *seen], sorted(t.contacts), day_length)


def indicators(
    t: Tally, cfg: ReportConfig, keys: Keys, hours: HoursFn | None
) -> list[Indicator]:
    """The indicators of a group, in a fixed order (``hours`` None: no productivity)."""
    out = [_response(t, cfg, ch, keys.day_length) for ch in keys.channels]
    out += [_first_contact(t, cfg, sev) for sev in keys.severities]
    timely, late = t.complaints["timely"], t.complaints["late"]
    out.append(
        _share(
            "complaint_timeliness",
            "Complaint handling timeliness",
            timely,
            timely + late,
            cfg.complaint_timeliness.target,
            {"timely": timely, "late": late, "open": t.complaints["open"]},
        )
    )
    good, bad = t.classes["good"], t.classes["bad"]
    out.append(
        _share(
            "resolution_rate",
            "Resolution rate",
            good,
            good + bad,
            cfg.resolution.target,
            {
                "good": good,
                "bad": bad,
                "neutral": t.classes["neutral"],
                "open": t.classes["open"],
            },
        )
    )
    out.append(
        _share(
            "reopen_rate",
            "Reopen rate",
            t.reopened,
            t.resolved_ever,
            cfg.reopen.target,
            {"reopened": t.reopened, "resolved": t.resolved_ever},
        )
    )
    out.append(
        _share(
            "repeat_inquiry_rate",
            "Repeat-inquiry rate (same customer, same topic)",
            t.repeats,
            t.inquiries,
            cfg.repeat_inquiry.target,
            {
                "repeats": t.repeats,
                "inquiries": t.inquiries,
                "without_topic": t.no_topic,
                "window": cfg.repeat_inquiry.window,
            },
        )
    )
    out.append(
        _share(
            "satisfaction",
            "Customer satisfaction",
            t.satisfied,
            t.rated,
            cfg.satisfaction.target,
            {"satisfied": t.satisfied, "rated": t.rated},
        )
    )
    out.append(_productivity(t, cfg, hours))
    out.append(
        _share(
            "review_pass_rate",
            "Sampled reviews passed",
            t.passed,
            t.reviews,
            cfg.review.target,
            {"passed": t.passed, "reviewed": t.reviews},
        )
    )
    return out


def _share(
    key: str,
    name: str,
    part: int,
    whole: int,
    target: Target | None,
    detail: dict[str, JSON],
) -> Indicator:
    return Indicator(key, name, ratio(part, whole), "share", target, whole, detail)


def _response(
    t: Tally, cfg: ReportConfig, channel: str, day_length: timedelta
) -> Indicator:
    ch = t.channels.get(channel, _Channel())
    spec = cfg.response.channels.get(channel)
    decided = ch.times.n + ch.missed
    detail: dict[str, JSON] = {
        "answered": ch.times.n,
        "within": ch.within,
        "unanswered_late": ch.missed,
        "waiting": ch.pending,
        **ch.times.summary(),
    }
    target = None
    if spec is not None:
        limit = spec.limit(day_length).total_seconds()
        detail.update(within_target=spec.within, target_seconds=limit, basis=spec.basis)
        target = Target(at_least=spec.share, source=spec.source)
    value = ratio(ch.within, decided) if spec is not None else None
    name = f"Response within target — {channel}"
    return Indicator(
        f"response.{channel}", name, value, "share", target, decided, detail
    )


def _first_contact(t: Tally, cfg: ReportConfig, severity: str) -> Indicator:
    c = t.contacts.get(severity, _Contact())
    met, breached = c.statuses["met"], c.statuses["breached"]
    detail: dict[str, JSON] = {
        "met": met,
        "breached": breached,
        "ended_without_contact": c.statuses["ended"],
        "pending": c.statuses["pending"],
        "deadlines": [*sorted(c.deadlines)],
        **c.times.summary(),
    }
    return _share(
        f"first_contact.{severity}",
        f"First contact in time — {severity}",
        met,
        met + breached,
        cfg.first_contact.target,
        detail,
    )


def _productivity(t: Tally, cfg: ReportConfig, hours: HoursFn | None) -> Indicator:
    target = cfg.productivity.target
    name = "Cases handled per person per working hour"
    if hours is None:
        return Indicator("productivity", name, None, "per_hour", target, 0, {})
    handled, worked, people, off = 0, 0.0, 0, 0
    for person, n in t.handled.items():
        h = hours(t.days.get(person, ()))
        if h > 0:
            handled, worked, people = handled + n, worked + h, people + 1
        else:
            off += n  # worked only outside working days: no working hours
    detail: dict[str, JSON] = {
        "handled": handled,
        "working_hours": round(worked, 4),
        "people": people,
        "handled_on_days_off": off,
        "roles": [*cfg.productivity.roles],
    }
    value = handled / worked if worked else None
    return Indicator("productivity", name, value, "per_hour", target, handled, detail)
