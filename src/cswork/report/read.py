"""Reading cases and their histories page by page, in bulk.

A report never holds more than one page of cases and histories: cases come
in creation order, ``page`` at a time (keyset paging on the start time), and
each page's histories come in one bulk read (``Store.histories``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime

from cswork.records import Case, CaseQuery, HistoryEntry
from cswork.storage.base import Store

PAGE = 500


def stream(
    store: Store,
    *,
    workflow: str | None = None,
    created_from: datetime | None = None,
    created_before: datetime | None = None,
    closed: bool | None = None,
    page: int = PAGE,
) -> Iterator[tuple[Case, list[HistoryEntry]]]:
    """Every matching case with its history, oldest first.

    Cases started at the same instant keep their store order: the next page
    starts at the last start time seen and skips the cases of that instant
    already given, so no case is given twice or missed.
    """
    since, skip = created_from, 0
    while True:
        cases = store.query_cases(
            CaseQuery(
                workflow_id=workflow,
                closed=closed,
                created_from=since,
                created_before=created_before,
                limit=page + skip,
            )
        )
        fresh = cases[skip:]
        if fresh:
            histories = store.histories([c.id for c in fresh])
            for case in fresh:
                yield case, histories[case.id]
        if len(cases) < page + skip:
            return
        last = cases[-1].created_at
        skip = sum(1 for c in cases if c.created_at == last)
        since = last
