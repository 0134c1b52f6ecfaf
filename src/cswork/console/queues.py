"""Queues: which cases a queue page lists, as one store query per page.

A queue page is a scope (whose cases: ``policy.Scope``) times a queue (which
of them: open, due soon, breached, unassigned, all) times the filters and
the order the reader chose. All of it becomes the arguments of one
``engine.query`` call with ``offset``/``limit`` — the store pages, sorts and
counts (``engine.count`` with the same filters), never Python.
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, Final

from cswork.console.policy import Scope
from cswork.engine import Engine
from cswork.errors import CsworkError
from cswork.records import Case, CaseOrder


class ConsoleInputError(CsworkError, ValueError):
    """A page was asked for with parameters it cannot use (a bad link)."""


class NotShownError(CsworkError):
    """The page exists, but the policy does not show it to this person."""


#: Queue name → (label, the filters it adds, its default order).
QUEUES: Final[dict[str, tuple[str, dict[str, Any], CaseOrder]]] = {
    "open": ("open", {"closed": False}, "created"),
    "due": ("due soon", {"closed": False}, "due"),
    "breached": ("breached", {"closed": False, "breached": True}, "due"),
    "unassigned": ("unassigned", {"closed": False, "assigned": False}, "created"),
    "all": ("all, closed too", {}, "created"),
}
ORDERS: Final = ("created", "due", "updated")
PAGE_SIZES: Final = (10, 25, 50, 100, 200)
DEFAULT_SIZE: Final = 50
DEFAULT_HOURS: Final = 2
MAX_HOURS: Final = 24 * 90
#: Text filters the reader may give; each is passed to ``engine.query``.
TEXT_FILTERS: Final = ("workflow", "state", "owner")
DATA_FILTERS: Final = ("severity",)


@dataclass(frozen=True)
class QueueParams:
    """What a queue page shows (from its URL).

    Attributes:
        queue: one of ``QUEUES``.
        scope: the key of the scope chosen (empty: the person's first).
        hours: for the ``due`` queue, the window in hours.
        workflow, state, owner: filters ("" for none).
        severity: a filter on case data ("" for none); used only when the
            engine's queries can filter on data.
        order: ``created``, ``due`` or ``updated``.
        descending: the order reversed.
        page: 1-based page number.
        size: cases per page.
    """

    queue: str = "open"
    scope: str = ""
    hours: int = DEFAULT_HOURS
    workflow: str = ""
    state: str = ""
    owner: str = ""
    severity: str = ""
    order: CaseOrder = "created"
    descending: bool = False
    page: int = 1
    size: int = DEFAULT_SIZE

    @classmethod
    def parse(cls, args: Mapping[str, str]) -> QueueParams:
        """Read the parameters of a queue URL.

        Raises:
            ConsoleInputError: a parameter out of range or unknown.
        """
        queue = args.get("queue") or "open"
        if queue not in QUEUES:
            raise ConsoleInputError(f"no queue {queue!r}; choose from {list(QUEUES)}")
        order = args.get("order") or QUEUES[queue][2]
        if order not in ORDERS:
            raise ConsoleInputError(f"order by {', '.join(ORDERS)}, not {order!r}")
        size = _number(args, "size", DEFAULT_SIZE, 1, max(PAGE_SIZES))
        texts = {k: (args.get(k) or "").strip() for k in (*TEXT_FILTERS, "severity")}
        return cls(
            queue=queue,
            scope=args.get("scope") or "",
            hours=_number(args, "hours", DEFAULT_HOURS, 1, MAX_HOURS),
            order=order,  # type: ignore[arg-type]  # checked against ORDERS
            descending=args.get("desc") in ("1", "true", "on"),
            page=_number(args, "page", 1, 1, 10**9),
            size=size,
            **texts,
        )

    def link(self, **changes: Any) -> dict[str, str]:
        """The URL parameters of this page with ``changes`` (defaults left out)."""
        p = replace(self, **changes)
        out = {
            "queue": p.queue,
            "scope": p.scope,
            "workflow": p.workflow,
            "state": p.state,
            "owner": p.owner,
            "severity": p.severity,
            "order": p.order if p.order != QUEUES[p.queue][2] else "",
            "desc": "1" if p.descending else "",
            "hours": str(p.hours) if p.hours != DEFAULT_HOURS else "",
            "page": str(p.page) if p.page != 1 else "",
            "size": str(p.size) if p.size != DEFAULT_SIZE else "",
        }
        return {k: v for k, v in out.items() if v}


def _number(args: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    text = args.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        raise ConsoleInputError(
            f"{name} must be a whole number, not {text!r:.40}"
        ) from None
    if not lo <= value <= hi:
        raise ConsoleInputError(f"{name} must be from {lo} to {hi}, not {value}")
    return value


def filters_data(engine: Engine) -> bool:
    """Can this engine's queries filter on case data (``query(data=...)``)?

    The severity filter is offered only then (an embedding may pass an
    engine-like object without it).
    """
    return "data" in inspect.signature(engine.query).parameters


def queue_filters(
    engine: Engine, params: QueueParams, scope: Scope, now: datetime, queue: str
) -> dict[str, Any]:
    """The ``engine.query`` filters of ``queue`` in this scope with these filters.

    The scope's filters come last: a reader cannot widen their scope by
    typing another owner or unit.
    """
    out: dict[str, Any] = dict(QUEUES[queue][1])
    if queue == "due":
        out["due_before"] = now + timedelta(hours=params.hours)
    for name in TEXT_FILTERS:
        value = getattr(params, name)
        if value:
            out[name] = value
    if params.severity and filters_data(engine):
        out["data"] = {"severity": params.severity}
    out.update(scope.filters)
    return out


@dataclass(frozen=True)
class QueuePage:
    """One page of a queue, with the counts of every queue in the scope.

    Attributes:
        cases: the cases on this page, in the order asked.
        total: how many cases the queue holds (all pages).
        counts: queue name → how many cases it holds (the tabs' numbers).
        pages: how many pages the queue has (at least 1).
    """

    cases: list[Case]
    total: int
    counts: dict[str, int]
    pages: int


def queue_page(
    engine: Engine, params: QueueParams, scope: Scope, now: datetime
) -> QueuePage:
    """One page of the queue: one paged query and one count per queue tab."""
    counts = {
        name: engine.count(**queue_filters(engine, params, scope, now, name))
        for name in QUEUES
    }
    total = counts[params.queue]
    pages = max(1, -(-total // params.size))
    filters = queue_filters(engine, params, scope, now, params.queue)
    cases = engine.query(
        **filters,
        order=params.order,
        descending=params.descending,
        offset=(min(params.page, pages) - 1) * params.size,
        limit=params.size,
    )
    return QueuePage(cases=cases, total=total, counts=counts, pages=pages)
