"""What an engine answers without changing anything.

Cases, histories, queues, the steps a person may take, and how a due time
was derived. ``Engine`` takes these from ``Reads``; they need only its store and its
compiled workflows.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from cswork.engine.check import may_take
from cswork.engine.explain import Explanation, explain
from cswork.engine.guards import check_actor, is_clean_id
from cswork.engine.plan import Planner
from cswork.errors import CaseNotFoundError
from cswork.records import (
    Actor,
    Case,
    CaseOrder,
    CaseQuery,
    HistoryEntry,
    OutboxItem,
    Timer,
)
from cswork.storage.base import Store


class Reads:
    """The read side of ``Engine`` (see there for the arguments it is made with)."""

    store: Store

    def _planner(self, workflow_id: str, version: int | None = None) -> Planner:
        raise NotImplementedError  # pragma: no cover - Engine provides it

    def get(self, case_id: str) -> Case:
        """The case as stored. Raises ``CaseNotFoundError``."""
        if not is_clean_id(case_id):
            raise CaseNotFoundError(repr(case_id))
        return self.store.load_case(case_id)

    def history(self, case_id: str) -> list[HistoryEntry]:
        """Every step of the case, oldest first."""
        return self.store.history(case_id)

    def timers(self, case_id: str, *, pending_only: bool = True) -> list[Timer]:
        """The case's timers (pending ones by default), by due time."""
        return self.store.timers(case_id, pending_only=pending_only)

    def query(
        self,
        *,
        workflow: str | None = None,
        state: str | None = None,
        customer: str | None = None,
        owner: str | None = None,
        unit: str | None = None,
        assigned: bool | None = None,
        closed: bool | None = None,
        breached: bool | None = None,
        due_before: datetime | None = None,
        created_from: datetime | None = None,
        created_before: datetime | None = None,
        data: Mapping[str, str] | None = None,
        order: CaseOrder = "created",
        descending: bool = False,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[Case]:
        """Cases matching every filter given: one page, in the order asked.

        ``owner``/``unit``: the person or unit responsible; ``assigned``:
        with or without an owner; ``due_before``: cases whose next due time
        falls before it (a queue of what breaches soon); ``data``: text
        values of the case data, e.g. ``{"severity": "urgent"}``; ``order``:
        ``created`` (the default, oldest first), ``due`` (soonest first,
        cases with nothing due last) or ``updated``. Served by the store's
        indexes, paginated by the store.

        Raises:
            InvalidArgumentError: a filter of the wrong type, or a bad page.
        """
        query = self._query(locals())
        return [] if query is None else self.store.query_cases(query)

    def count(self, **filters: Any) -> int:
        """How many cases ``query(**filters)`` would list if it had no page."""
        query = self._query({**filters, "offset": 0, "limit": None})
        return 0 if query is None else self.store.count_cases(query)

    @staticmethod
    def _query(args: Mapping[str, Any]) -> CaseQuery | None:
        """The store query for ``query()``'s arguments (None: nothing can match)."""
        given = {k: v for k, v in args.items() if k != "self"}
        wid = given.pop("workflow", None)
        query = CaseQuery(workflow_id=wid, **given)
        texts = (wid, query.state, query.customer, query.owner, query.unit)
        if any(v is not None and not is_clean_id(v) for v in texts):
            return None  # no stored case can match text no case may hold
        return query

    def allowed_events(self, case_id: str, actor: Actor | None = None) -> list[str]:
        """Events declared from the case's state; with ``actor``, those it may take.

        An actor may take an event when it holds one of its roles and, for a
        step limited to the case's owner or unit (``only``), is the owner or
        belongs to the unit. Data and conditions are checked when it fires.
        """
        case = self.get(case_id)
        planner = self._planner(case.workflow_id, case.workflow_version)
        steps = planner.wf.dispatch.get(case.state, {})
        if actor is None:
            return sorted(steps)
        who = check_actor(actor)
        return sorted(
            e for e, s in steps.items() if any(may_take(x, case, who) for x in s)
        )

    def stuck_handovers(self) -> list[OutboxItem]:
        """Hand-overs a deadline could not make: linked cases not yet started.

        They stay in the outbox and are retried by ``deliver`` (the worker
        calls it) until the target workflow accepts them.
        """
        return [i for i in self.store.outbox() if i.kind == "start_case"]

    def explain(self, case_id: str, timer: str) -> Explanation:
        """How a timer's due time was derived.

        Args:
            case_id: the case.
            timer: a timer id, or a deadline name (its latest timer).

        Raises:
            CaseNotFoundError: no such case.
            CsworkError: the case has no such timer.
        """
        case = self.get(case_id)
        planner = self._planner(case.workflow_id, case.workflow_version)
        return explain(planner, case, self.store.timers(case_id), timer)
