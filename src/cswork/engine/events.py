"""What subscribers receive: one typed event per committed history entry.

Every step a case takes — a start, an event, a deadline falling due, a
warning, the end of a period — is one ``HistoryEntry``; once its commit has
succeeded, subscribers get it wrapped as a ``StepEvent`` (steps people and
deadline-fired events take) or a ``DeadlineEvent`` (deadlines, warnings,
periods). ``key`` (``case_id:seq``) is the idempotency key: the same entry
always has the same key, whether it comes from the live feed or from
``read_since`` (the catch-up read after a restart).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal, TypeAlias

from cswork.records import Case, CaseChange, HistoryEntry, HistoryKind

if TYPE_CHECKING:
    from cswork.storage.base import Store

StepKind = Literal["start", "event"]
DeadlineKind = Literal["deadline", "warning", "period"]
#: Cases read per page by ``read_since``.
PAGE = 500


@dataclass(frozen=True, slots=True)
class StepEvent:
    """A committed step: a case started, or an event fired on it.

    Attributes:
        key: ``case_id:seq``, the idempotency key (delivery is at least once).
        kind: ``start`` or ``event``.
        case: the case as the commit left it (for the live feed) or as it is
            now (for ``read_since``).
        entry: the history entry of the step.
    """

    key: str
    kind: StepKind
    case: Case
    entry: HistoryEntry

    @property
    def case_id(self) -> str:
        """The case's id."""
        return self.entry.case_id

    @property
    def workflow_id(self) -> str:
        """The case's workflow."""
        return self.case.workflow_id

    @property
    def entered(self) -> str | None:
        """The state the step entered, or None if it stayed where it was."""
        e = self.entry
        return e.to_state if e.from_state != e.to_state else None

    @property
    def left(self) -> str | None:
        """The state the step left, or None (a start, or a step that stayed)."""
        e = self.entry
        return e.from_state if e.from_state != e.to_state else None


@dataclass(frozen=True, slots=True)
class DeadlineEvent:
    """A deadline event: a deadline fell due, warned, or a period ended.

    Attributes:
        key: ``case_id:seq``, the idempotency key.
        kind: ``deadline`` (breached), ``warning`` or ``period``.
        case: as for ``StepEvent``.
        entry: the history entry.
        deadline: the deadline's name in the workflow.
        due_at: when the timer was due (aware, UTC).
        outcome: ``breached`` for a deadline, ``met`` or ``missed`` for a
            period, None for a warning.
    """

    key: str
    kind: DeadlineKind
    case: Case
    entry: HistoryEntry
    deadline: str
    due_at: datetime | None
    outcome: str | None

    @property
    def case_id(self) -> str:
        """The case's id."""
        return self.entry.case_id

    @property
    def workflow_id(self) -> str:
        """The case's workflow."""
        return self.case.workflow_id

    @property
    def lag(self) -> timedelta | None:
        """How long after its due time the timer fired (the worker's lag)."""
        return None if self.due_at is None else self.entry.at - self.due_at

    @property
    def entered(self) -> None:
        """Deadline entries never change the state (an event they fire does)."""
        return None

    @property
    def left(self) -> None:
        """See ``entered``."""
        return None


#: What a subscriber receives.
CaseEvent: TypeAlias = StepEvent | DeadlineEvent
#: Every kind of history entry; ``subscribe(kinds=...)`` takes a subset.
ALL_KINDS: frozenset[HistoryKind] = frozenset(
    ("start", "event", "deadline", "warning", "period")
)


def event_of(case: Case, entry: HistoryEntry) -> CaseEvent:
    """The event for one history entry of ``case``."""
    key = f"{entry.case_id}:{entry.seq}"
    kind = entry.kind
    if kind == "start" or kind == "event":
        return StepEvent(key, kind, case, entry)
    due = entry.detail.get("due_at")
    outcome = entry.detail.get("outcome")
    return DeadlineEvent(
        key,
        kind,
        case,
        entry,
        entry.event,
        datetime.fromisoformat(due) if isinstance(due, str) else None,
        outcome if isinstance(outcome, str) else None,
    )


def events_of(changes: Sequence[CaseChange]) -> Iterator[CaseEvent]:
    """The events of committed changes, in commit order (linked cases after)."""
    for change in changes:
        for entry in change.entries:
            yield event_of(change.case, entry)
        yield from events_of(change.linked)


def read_since(
    store: Store,
    since: datetime,
    *,
    until: datetime | None = None,
    workflow: str | None = None,
) -> list[CaseEvent]:
    """Every history entry written at or after ``since`` (and before ``until``).

    The catch-up read: what a subscriber that was down missed. Entries come
    in time order (ties by case and sequence), with ``case`` as the case is
    now. Cases are read newest-updated first, a page at a time, until one
    was last changed before ``since``.
    """
    from cswork.records import CaseQuery

    found: list[CaseEvent] = []
    offset = 0
    while True:
        page = store.query_cases(
            CaseQuery(
                workflow_id=workflow,
                order="updated",
                descending=True,
                offset=offset,
                limit=PAGE,
            )
        )
        recent = [c for c in page if c.updated_at >= since]
        histories = store.histories([c.id for c in recent]) if recent else {}
        for case in recent:
            for entry in histories.get(case.id, ()):
                if entry.at >= since and (until is None or entry.at < until):
                    found.append(event_of(case, entry))
        if len(recent) < len(page) or len(page) < PAGE:
            break
        offset += PAGE
    found.sort(key=lambda e: (e.entry.at, e.entry.case_id, e.entry.seq))
    return found
