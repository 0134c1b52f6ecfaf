"""What one case contributes to a report, read from the case and its history.

``case_facts`` walks a history once and keeps only what the indicators need,
so a page of cases can be dropped as soon as its facts are tallied.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from cswork.records import SYSTEM_ACTOR, Case, HistoryEntry
from cswork.report.stats import three_figures
from cswork.report.view import PLAIN, Step, WorkflowView, first_value

UNKNOWN = "(none)"  # the cut key of a case without the field

ResponseStatus = Literal["answered", "missed", "pending"]
ContactStatus = Literal["met", "breached", "ended", "pending"]


@dataclass(frozen=True, slots=True)
class Response:
    """How fast a case got its first response, in the channel's basis."""

    channel: str
    status: ResponseStatus
    seconds: float | None  # answered: the response time
    within: bool | None = None  # answered within the channel's target
    key: float | None = None  # seconds to three significant figures


@dataclass(frozen=True, slots=True)
class FirstContact:
    """One first-contact deadline of a complaint and how it ended."""

    deadline: str
    status: ContactStatus
    seconds: float | None  # time to the first contact, even a late one


@dataclass(slots=True)
class CaseFacts:
    """One case, reduced to what the report counts."""

    case: Case
    view: WorkflowView
    person: str = UNKNOWN
    unit: str = UNKNOWN
    severity: str = UNKNOWN
    channel: str = UNKNOWN
    outcome: str | None = None  # None while open
    outcome_class: str = "open"
    outcome_listed: bool = True
    response: Response | None = None
    first_contacts: list[FirstContact] = field(default_factory=list)
    complaint: str | None = None  # timely / late / open
    resolved_ever: bool = False
    reopened: bool = False
    topic: str | None = None
    repeat: bool = False
    satisfied: bool | None = None
    activity: list[tuple[str, datetime]] = field(default_factory=list)
    attempts: list[datetime] = field(default_factory=list)
    reached_at: datetime | None = None
    review: tuple[str, bool, str] | None = None  # result, passed, finding
    breaches: list[datetime] = field(default_factory=list)
    escalations: int = 0
    kind: tuple[str, str] | None = None  # (type field, value)
    history: Sequence[HistoryEntry] = ()


def case_facts(
    case: Case, history: Sequence[HistoryEntry], view: WorkflowView, as_of: datetime
) -> CaseFacts:
    """The facts of ``case`` as of ``as_of`` (for calls still waiting)."""
    cfg = view.cfg
    data = case.data
    facts = CaseFacts(case=case, view=view, history=history)
    facts.severity = first_value(data, view.severity_fields) or UNKNOWN
    facts.channel = first_value(data, view.channel_fields) or UNKNOWN
    facts.unit = first_value(data, view.unit_fields) or UNKNOWN
    first_response = _walk(facts, history, view)
    owner = first_value(data, view.person_fields)
    if owner is None and not view.review:
        owner = first_response.actor if first_response else _starter(history)
    facts.person = owner or UNKNOWN
    if case.closed:
        outcome, cls, listed = view.outcome(case.state)
        facts.outcome, facts.outcome_class, facts.outcome_listed = outcome, cls, listed
    if view.inquiry:
        facts.response = _response(case, facts.channel, first_response, view, as_of)
        facts.topic = first_value(data, view.topic_fields)
    if view.complaint:
        facts.complaint = (
            "late" if case.breaches else "timely" if case.closed else "open"
        )
        facts.first_contacts = _first_contacts(history, view)
    facts.satisfied = _satisfied(first_value(data, view.score_fields), view)
    if view.review:
        result = first_value(data, [cfg.review.result_field])
        if result is not None:
            finding = first_value(data, [cfg.review.finding_field]) or ""
            facts.review = (result, result in cfg.review.pass_values, finding)
    for name in view.type_fields:
        value = first_value(data, [name])
        if value is not None:
            facts.kind = (name, value)
            break
    return facts


def _starter(history: Sequence[HistoryEntry]) -> str | None:
    return history[0].actor if history and history[0].kind == "start" else None


def _walk(
    facts: CaseFacts, history: Sequence[HistoryEntry], view: WorkflowView
) -> HistoryEntry | None:
    """One pass over the history; returns the first-response entry."""
    first_response: HistoryEntry | None = None
    system = SYSTEM_ACTOR.id
    for h in history:
        kind = h.kind
        if kind == "event" or kind == "start":
            if h.actor != system and view.counted(h.roles):
                facts.activity.append((h.actor, h.at))
            step = view.step(h) if kind == "event" else PLAIN
            if step is not PLAIN:
                if first_response is None and step.first_response:
                    first_response = h
                _tagged_step(facts, h, step)
        elif kind == "deadline" or h.detail.get("outcome") == "missed":
            facts.breaches.append(h.at)
    return first_response


def _tagged_step(facts: CaseFacts, h: HistoryEntry, step: Step) -> None:
    if step.resolve:
        facts.resolved_ever = True
    elif step.reopen and facts.resolved_ever:
        facts.reopened = True
    facts.escalations += step.escalation
    if step.attempt:
        facts.attempts.append(h.at)
    if step.reached and facts.reached_at is None:
        facts.reached_at = h.at


def count_deadlines(
    history: Sequence[HistoryEntry],
    view: WorkflowView,
    counts: Counter[tuple[WorkflowView, str, str]],
) -> None:
    """Count deadlines armed, met (or left in time), breached, and periods."""
    deadlines = view.wf.deadlines
    for h in history:
        detail = h.detail
        if not detail or h.kind == "warning":
            continue
        armed = _names(detail.get("armed"))
        ended = _names(detail.get("met")) + _names(detail.get("cancelled"))
        moved = set(armed).intersection(ended) if armed and ended else ()
        for name in armed:
            if name not in moved:  # an appointment moved is neither met nor new
                counts[(view, name, "armed")] += 1
        for name in ended:
            d = deadlines.get(name)
            if name not in moved and d is not None and d.every is None:
                counts[(view, name, "met")] += 1
        if h.kind == "deadline":
            counts[(view, h.event, "breached")] += 1
        elif h.kind == "period":
            good = detail.get("outcome") == "met"
            counts[(view, h.event, "period_met" if good else "period_missed")] += 1


def _names(value: object) -> list[str]:
    if not value or not isinstance(value, list):
        return []
    return [v for v in value if isinstance(v, str)]


def _elapsed(view: WorkflowView, a: datetime, b: datetime, basis: str) -> timedelta:
    return b - a if basis == "wall" else view.calendar.working_time_between(a, b)


def _response(
    case: Case,
    channel: str,
    first: HistoryEntry | None,
    view: WorkflowView,
    as_of: datetime,
) -> Response:
    target = view.cfg.response.channels.get(channel)
    basis = target.basis if target is not None else "wall"
    limit = view.limits.get(channel)
    if first is not None:
        took = _elapsed(view, case.created_at, first.at, basis)
        within = None if limit is None else took <= limit
        secs = took.total_seconds()
        return Response(channel, "answered", secs, within, three_figures(secs))
    if limit is None:
        return Response(channel, "pending", None)
    until = case.updated_at if case.closed else max(as_of, case.created_at)
    late = _elapsed(view, case.created_at, until, basis) > limit
    return Response(channel, "missed" if late else "pending", None, False)


def _first_contacts(
    history: Sequence[HistoryEntry], view: WorkflowView
) -> list[FirstContact]:
    """Each first-contact deadline armed: how it ended, and when contact came.

    Met, breached and left (scope left without contact) are the engine's own
    records; the time to contact runs from arming to the first step that
    meets the deadline, so a late contact after a breach has its time too.
    """
    out: list[FirstContact] = []
    open_: dict[str, tuple[datetime, bool]] = {}  # name → (armed at, breached)
    for h in history:
        met, left = _names(h.detail.get("met")), _names(h.detail.get("cancelled"))
        for name, (since, breached) in list(open_.items()):
            secs = (h.at - since).total_seconds()
            if not breached and name in met:
                out.append(FirstContact(name, "met", secs))
            elif breached and h.kind == "event" and h.event in view.first_contact[name]:
                out.append(FirstContact(name, "breached", secs))
            elif not breached and name in left:
                out.append(FirstContact(name, "ended", None))
            else:
                continue
            del open_[name]
        for name in _names(h.detail.get("armed")):
            if name in view.first_contact and name not in open_:
                open_[name] = (h.at, False)
        if h.kind == "deadline" and h.event in open_:
            open_[h.event] = (open_[h.event][0], True)
    out.extend(
        FirstContact(name, "breached" if breached else "pending", None)
        for name, (_, breached) in open_.items()
    )
    return out


def _satisfied(value: str | None, view: WorkflowView) -> bool | None:
    """Whether a satisfaction score counts as satisfied (None: no score)."""
    if value is None:
        return None
    cfg = view.cfg.satisfaction
    if value in ("True", "False"):
        return value == "True"
    try:
        return float(value) >= cfg.satisfied_at_least
    except ValueError:
        return value.casefold() in {v.casefold() for v in cfg.satisfied_values}
