"""Queries for the desk agree with a brute-force filter, on every store.

Issue 14: ``query(due_before=T)`` (with owner, unit and page) must be served
by the store and equal filtering every case by hand, on all three backends.
"""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cswork.records import Case, CaseQuery
from cswork.storage import Store
from cswork.testing.builders import T0, created, new_id

OWNERS = st.sampled_from([None, "li", "wang"])
UNITS = st.sampled_from([None, "technical", "business"])
# A case's deadlines as minutes after T0 (none: nothing due).
DUES = st.lists(st.integers(-600, 6_000), max_size=3)
CASES = st.lists(st.tuples(OWNERS, UNITS, DUES), min_size=1, max_size=12)


def _brute(cases: list[Case], q: CaseQuery) -> list[str]:
    def keep(c: Case) -> bool:
        due = c.next_due_at
        return (
            (q.owner is None or c.owner == q.owner)
            and (q.unit is None or c.unit == q.unit)
            and (q.due_before is None or (due is not None and due < q.due_before))
        )

    chosen = [c for c in cases if keep(c)]  # created in order: created_at rises
    if q.order == "due":
        chosen.sort(key=lambda c: (c.next_due_at is None, c.next_due_at or T0))
    stop = None if q.limit is None else q.offset + q.limit
    return [c.id for c in chosen[q.offset : stop]]


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    population=CASES,
    before=st.integers(-600, 6_000),
    owner=OWNERS,
    unit=UNITS,
    order=st.sampled_from(["created", "due"]),
    offset=st.integers(0, 4),
    limit=st.none() | st.integers(0, 5),
)
def test_due_before_equals_the_brute_force_filter(
    store: Store,
    population: list[tuple[str | None, str | None, list[int]]],
    before: int,
    owner: str | None,
    unit: str | None,
    order: str,
    offset: int,
    limit: int | None,
) -> None:
    wid = new_id("due")
    cases = [
        created(
            store,
            *((f"d{j}", T0 + timedelta(minutes=m)) for j, m in enumerate(dues)),
            workflow_id=wid,
            owner=who,
            unit=where,
            created_at=T0 + timedelta(seconds=i),
        )
        for i, (who, where, dues) in enumerate(population)
    ]
    query = CaseQuery(
        workflow_id=wid,
        owner=owner,
        unit=unit,
        due_before=T0 + timedelta(minutes=before),
        order=order,  # type: ignore[arg-type]
        offset=offset,
        limit=limit,
    )
    got = [c.id for c in store.query_cases(query)]
    assert got == _brute(cases, query)
    whole = CaseQuery(
        workflow_id=wid, owner=owner, unit=unit, due_before=query.due_before
    )
    assert store.count_cases(whole) == len(_brute(cases, whole))
