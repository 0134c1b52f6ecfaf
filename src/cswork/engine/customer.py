"""The customer file (客户档案) and the links between cases.

``Engine.customer`` answers "what has this customer asked of us, and where
does each request stand": every case of the customer across workflows,
newest first, with its open deadlines. It is one indexed query on the store
(``cases_by_customer``): a case's armed deadlines travel with the case row, so
no per-case read follows.

``case_links`` finds the cases a case names: the ids a ``start_case``
hand-over wrote into its data (``link`` in the new case, ``back_link`` in
the one that started it), and the case it was started from (recorded on its
first history entry as ``linked_from``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from cswork.definition.actions import StartCase
from cswork.definition.links import all_actions
from cswork.definition.model import Workflow
from cswork.records import Case, HistoryEntry


@dataclass(frozen=True, slots=True)
class OpenDeadline:
    """A deadline armed on a case now.

    Attributes:
        name: the deadline's name in the workflow.
        due_at: when it next falls due (aware, UTC).
    """

    name: str
    due_at: datetime


@dataclass(frozen=True, slots=True)
class CustomerCase:
    """One case in a customer's file.

    Attributes:
        id: the case id.
        workflow_id: the workflow it runs.
        state: its current state.
        closed: True once it reached a final state.
        owner: the person handling it, if any.
        unit: the unit responsible for it, if any.
        breaches: how many of its deadlines were missed.
        created_at: when it started (aware, UTC).
        updated_at: when it last changed (aware, UTC).
        deadlines: its open deadlines, soonest first (none once closed).
    """

    id: str
    workflow_id: str
    state: str
    closed: bool
    owner: str | None
    unit: str | None
    breaches: int
    created_at: datetime
    updated_at: datetime
    deadlines: tuple[OpenDeadline, ...]

    @classmethod
    def of(cls, case: Case) -> CustomerCase:
        """The file entry of a stored case."""
        due = sorted(case.armed.items(), key=lambda kv: (kv[1], kv[0]))
        return cls(
            id=case.id,
            workflow_id=case.workflow_id,
            state=case.state,
            closed=case.closed,
            owner=case.owner,
            unit=case.unit,
            breaches=case.breaches,
            created_at=case.created_at,
            updated_at=case.updated_at,
            deadlines=tuple(OpenDeadline(n, at) for n, at in due),
        )


@dataclass(frozen=True, slots=True)
class CustomerFile:
    """Every case of one customer across workflows (客户档案, 001 §7).

    Attributes:
        customer: the customer key (the workflows' customer field).
        cases: the customer's cases, newest first (at most the ``limit`` asked).
        more: True when the customer has older cases than those listed.
    """

    customer: str
    cases: tuple[CustomerCase, ...]
    more: bool = False

    @property
    def open_cases(self) -> tuple[CustomerCase, ...]:
        """The listed cases not yet closed."""
        return tuple(c for c in self.cases if not c.closed)

    @property
    def next_due(self) -> OpenDeadline | None:
        """The soonest open deadline of the listed cases, if any."""
        due = [d for c in self.cases for d in c.deadlines]
        return min(due, key=lambda d: d.due_at) if due else None


def customer_file(customer: str, cases: list[Case], limit: int) -> CustomerFile:
    """The file of ``customer`` from up to ``limit + 1`` of its cases, newest first."""
    return CustomerFile(
        customer=customer,
        cases=tuple(CustomerCase.of(c) for c in cases[:limit]),
        more=len(cases) > limit,
    )


LinkKind = Literal["started_from", "started"]


@dataclass(frozen=True, slots=True)
class CaseLink:
    """A case another case names.

    Attributes:
        kind: ``started_from`` (this case was started by the other one) or
            ``started`` (this case started the other one).
        case_id: the other case.
        workflow_id: the other case's workflow, as the hand-over declares it
            ("" when only the history names the case).
        field: the data field holding the other case's id ("" when only the
            history records it).
    """

    kind: LinkKind
    case_id: str
    workflow_id: str
    field: str


def case_links(
    case: Case,
    own: Workflow,
    workflows: Iterable[Workflow],
    first: HistoryEntry | None,
) -> list[CaseLink]:
    """The cases ``case`` names, found through the hand-overs that link them.

    Args:
        case: the case.
        own: the definition the case runs (its ``back_link`` fields).
        workflows: every loaded definition (their ``link`` fields into it).
        first: the case's first history entry (its ``linked_from``), if read.
    """
    found: dict[tuple[LinkKind, str], CaseLink] = {}
    for wf in workflows:
        for hand in _handovers(wf):
            if hand.start_case == case.workflow_id and hand.link:
                _add(found, "started_from", case.data, hand.link, wf.workflow)
    for hand in _handovers(own):
        if hand.back_link:
            _add(found, "started", case.data, hand.back_link, hand.start_case)
    source = first.detail.get("linked_from") if first is not None else None
    if isinstance(source, str) and ("started_from", source) not in found:
        found["started_from", source] = CaseLink("started_from", source, "", "")
    return list(found.values())


def _handovers(wf: Workflow) -> list[StartCase]:
    return [a for _, a in all_actions(wf) if isinstance(a, StartCase)]


def _add(
    found: dict[tuple[LinkKind, str], CaseLink],
    kind: LinkKind,
    data: Mapping[str, object],
    name: str,
    workflow_id: str,
) -> None:
    value = data.get(name)
    if isinstance(value, str) and value and (kind, value) not in found:
        found[kind, value] = CaseLink(kind, value, workflow_id, name)
