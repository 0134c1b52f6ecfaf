"""What each page shows, as plain values for its template (no HTTP here).

Each function takes the console's parts and the person looking and returns
the template's context; the templates only lay it out. Cases the person may
not see are reported as not found, so a page never tells that they exist.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from cswork.console.diagrams import Diagram, Diagrams
from cswork.console.forms import EventForm, event_forms, with_values
from cswork.console.policy import Policy, Scope, find_scope
from cswork.console.queues import (
    ORDERS,
    QUEUES,
    ConsoleInputError,
    QueueParams,
    filters_data,
    queue_page,
)
from cswork.console.timeline import (
    data_rows,
    relative,
    timeline,
    when,
    zone_label,
    zone_of,
)
from cswork.console.workflows import parse_version
from cswork.diagram import case_path
from cswork.engine import Engine
from cswork.errors import CaseNotFoundError, CsworkError
from cswork.records import Actor, Case

#: Closed timers shown on a case page (the most recent), besides pending ones.
CLOSED_TIMERS = 20


def choose_scope(
    policy: Policy, actor: Actor, key: str | None
) -> tuple[Scope, list[Scope]]:
    """The scope asked for (or the person's first) and all of theirs.

    Raises:
        ConsoleInputError: the person has no such scope (or none at all).
    """
    scopes = list(policy.scopes(actor))
    scope = find_scope(scopes, key)
    if scope is None:
        what = f"no scope {key!r:.40}" if key else "no cases to show"
        raise ConsoleInputError(f"{what} for {actor.id!r:.60}")
    return scope, scopes


@dataclass(frozen=True)
class CaseRow:
    """A case as a line of a list."""

    id: str
    workflow: str
    state: str
    customer: str | None
    owner: str
    unit: str
    severity: str
    due: str
    due_in: str
    overdue: bool
    breaches: int
    created: str
    updated: str
    closed: bool


def case_rows(engine: Engine, cases: Sequence[Case], now: datetime) -> list[CaseRow]:
    """The cases as list lines, times in their workflows' calendar zones."""
    rows = []
    for c in cases:
        tz = zone_of(engine, engine.definition(c.workflow_id, c.workflow_version))
        nxt = c.next_due_at
        rows.append(
            CaseRow(
                id=c.id,
                workflow=c.workflow_id,
                state=c.state,
                customer=c.customer,
                owner=c.owner or "",
                unit=c.unit or "",
                severity=str(c.data.get("severity") or ""),
                due=when(nxt, tz) if nxt else "",
                due_in=relative(nxt, now),
                overdue=nxt is not None and nxt <= now,
                breaches=c.breaches,
                created=when(c.created_at, tz),
                updated=when(c.updated_at, tz),
                closed=c.closed,
            )
        )
    return rows


def queues_context(
    engine: Engine, policy: Policy, actor: Actor, args: Mapping[str, str]
) -> dict[str, Any]:
    """The queue page: tabs with counts, filters, one page of cases."""
    params = QueueParams.parse(args)
    scope, scopes = choose_scope(policy, actor, params.scope)
    params = replace(params, scope=scope.key)
    now = engine.clock.now()
    page = queue_page(engine, params, scope, now)
    tz = engine.calendars["default"].tz
    tabs = [
        (name, label, params.link(queue=name, page=1, order=order, descending=False))
        for name, (label, _, order) in QUEUES.items()
    ]
    sorts = {}
    for key in ORDERS:
        current = params.order == key
        mark = (" ▼" if params.descending else " ▲") if current else ""
        desc = not params.descending if current else False
        sorts[key] = (params.link(order=key, descending=desc, page=1), mark)
    return {
        "params": params,
        "scope": scope,
        "scopes": scopes,
        "queues": {name: label for name, (label, _, _) in QUEUES.items()},
        "tabs": tabs,
        "sorts": sorts,
        "page": page,
        "rows": case_rows(engine, page.cases, now),
        "workflows": sorted(engine.workflows),
        "severity_filter": filters_data(engine),
        "now": when(now, tz),
        "zone": zone_label(tz, now),
    }


def visible_case(engine: Engine, policy: Policy, actor: Actor, case_id: str) -> Case:
    """The case, if the person may see it.

    Raises:
        CaseNotFoundError: no such case, or not one the person may see.
    """
    case = engine.get(case_id)
    if not policy.can_see(actor, case):
        raise CaseNotFoundError(repr(case_id))
    return case


def case_context(
    engine: Engine,
    policy: Policy,
    diagrams: Diagrams,
    actor: Actor,
    case_id: str,
    *,
    acting: bool,
    submitted: tuple[str, Mapping[str, str]] | None = None,
) -> dict[str, Any]:
    """The case page: data, timeline, timers explained, forms, diagram.

    Args:
        engine: the engine.
        policy: who may see the case.
        diagrams: where the diagram is drawn.
        actor: the person looking.
        case_id: the case.
        acting: offer the forms (False in read-only mode).
        submitted: (event, the inputs) of a refused form, shown again filled in.
    """
    case = visible_case(engine, policy, actor, case_id)
    wf = engine.definition(case.workflow_id, case.workflow_version)
    tz = zone_of(engine, wf)
    now = engine.clock.now()
    history = engine.history(case.id)
    forms: list[EventForm] = []
    if acting and not case.closed:
        events = engine.allowed_events(case.id, actor)
        forms = event_forms(wf, case.state, events, actor.roles, case.data, tz)
        if submitted is not None:
            event, inputs = submitted
            forms = [with_values(f, inputs) if f.event == event else f for f in forms]
    return {
        "case": case,
        "wf": wf,
        "zone": zone_label(tz, now),
        "data": data_rows(wf, case.data, tz),
        "counters": sorted(case.counters.items()),
        "created": when(case.created_at, tz),
        "updated": when(case.updated_at, tz),
        "timeline": timeline(wf, history, tz),
        "timers": timer_rows(engine, case, tz, now),
        "forms": forms,
        "diagram": diagrams.draw(wf, current=case.state, path=case_path(history)),
    }


@dataclass(frozen=True)
class TimerRow:
    """A timer of a case, with how its due time was derived."""

    id: str
    deadline: str
    title: str
    kind: str
    state: str
    due: str
    due_in: str
    overdue: bool
    armed: str
    explanation: tuple[str, ...]


def timer_rows(engine: Engine, case: Case, tz: Any, now: datetime) -> list[TimerRow]:
    """Pending timers first (soonest first), then the latest closed ones."""
    timers = engine.timers(case.id, pending_only=False)
    pending = [t for t in timers if t.state == "pending"]
    closed = sorted(
        (t for t in timers if t.state != "pending"),
        key=lambda t: t.closed_at or t.due_at,
        reverse=True,
    )[:CLOSED_TIMERS]
    wf = engine.definition(case.workflow_id, case.workflow_version)
    rows = []
    for t in [*pending, *closed]:
        try:
            text = engine.explain(case.id, t.id).text
        except CsworkError as exc:
            text = (f"no explanation: {exc}",)
        d = wf.deadlines.get(t.deadline)
        rows.append(
            TimerRow(
                id=t.id,
                deadline=t.deadline,
                title=d.title if d is not None else "",
                kind=t.kind if t.kind != "period" else f"period {t.period}",
                state=t.state + (" (met)" if t.met else ""),
                due=when(t.due_at, tz),
                due_in=relative(t.due_at, now) if t.state == "pending" else "",
                overdue=t.state == "pending" and t.due_at <= now,
                armed=when(t.armed_at, tz),
                explanation=tuple(text),
            )
        )
    return rows


def customer_context(
    engine: Engine, policy: Policy, actor: Actor, args: Mapping[str, str]
) -> dict[str, Any]:
    """All cases of one customer in the scope, newest first, paginated."""
    customer = (args.get("id") or "").strip()
    paging = {k: v for k, v in args.items() if k in ("scope", "page", "size")}
    params = QueueParams.parse({**paging, "queue": "all"})
    scope, scopes = choose_scope(policy, actor, params.scope)
    rows: list[CaseRow] = []
    total = 0
    if customer:
        filters: dict[str, Any] = {"customer": customer, **scope.filters}
        total = engine.count(**filters)
        cases = engine.query(
            **filters,
            order="created",
            descending=True,
            offset=(params.page - 1) * params.size,
            limit=params.size,
        )
        rows = case_rows(engine, cases, engine.clock.now())
    return {
        "customer": customer,
        "params": params,
        "scope": scope,
        "scopes": scopes,
        "rows": rows,
        "total": total,
        "pages": max(1, -(-total // params.size)),
    }


def diagram_for(
    engine: Engine,
    policy: Policy,
    diagrams: Diagrams,
    actor: Actor,
    args: Mapping[str, str],
) -> Diagram:
    """The diagram of ``case`` (highlighted), or of ``workflow`` [``version``].

    Raises:
        CaseNotFoundError: no such case, or not one the person may see.
        UnknownWorkflowError: no such workflow.
        ConsoleInputError: a bad version.
    """
    if args.get("case"):
        case = visible_case(engine, policy, actor, args["case"])
        wf = engine.definition(case.workflow_id, case.workflow_version)
        path = case_path(engine.history(case.id))
        return diagrams.draw(wf, current=case.state, path=path)
    version = parse_version(args.get("version"))
    return diagrams.draw(engine.definition(args.get("workflow", ""), version))
