"""The store contract, part one: cases, commits and queries."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
)
from cswork.records import (
    CaseChange,
    CaseQuery,
)
from cswork.storage.base import Store
from cswork.testing.builders import (
    T0,
    created,
    entry,
    everything,
    ids,
    make_case,
    new_id,
    outbox,
    step,
    timer,
)


class CaseContract:
    """Creating, loading and committing cases; queries, filters and pages."""

    # ------------------------------------------------------------ cases
    def test_create_then_load_round_trips(self, store: Store) -> None:
        case = created(store, ("d", T0 + timedelta(hours=1)))
        assert case.armed == {"d": T0 + timedelta(hours=1)}
        assert store.load_case(case.id) == case
        assert store.load_case(case.id).armed["d"].utcoffset() == timedelta(0)
        loaded = store.load_case(case.id)
        assert loaded.created_at.tzinfo is not None
        assert loaded.created_at.utcoffset() == timedelta(0)
        assert [type(v) for v in loaded.data.values()] == [
            str,
            int,
            float,
            bool,
            type(None),
        ]
        assert store.history(case.id) == [entry(case, 1)]

    def test_creating_an_existing_case_conflicts_and_changes_nothing(
        self, store: Store
    ) -> None:
        case = created(store)
        before = everything(store, case.id)
        with pytest.raises(ConflictError):
            created(store, ("d", T0), case_id=case.id, state="other")
        assert everything(store, case.id) == before

    def test_unknown_case(self, store: Store) -> None:
        with pytest.raises(CaseNotFoundError):
            store.load_case("no-such-case")
        assert store.history("no-such-case") == []
        assert store.timers("no-such-case") == []
        with pytest.raises(CaseNotFoundError):
            store.commit(step(make_case("no-such-case")))

    def test_commit_appends_and_bumps_the_version(self, store: Store) -> None:
        case = created(store)
        change = step(case, new={"state": "closed", "closed": True, "data": {"a": 1}})
        store.commit(change)
        assert store.load_case(case.id) == change.case
        assert [e.seq for e in store.history(case.id)] == [1, 2]

    def test_stale_commit_conflicts_and_writes_nothing(self, store: Store) -> None:
        case = created(store, ("d", T0 + timedelta(hours=1)))
        store.commit(step(case))
        before = everything(store, case.id)
        stale = step(
            case,
            cancel=ids(store, case, "d"),
            arm=(timer(case, "e", T0),),
            outbox=(outbox(case),),
        )
        with pytest.raises(ConflictError):
            store.commit(stale)
        assert everything(store, case.id) == before
        assert store.claim_outbox(T0, worker_id="w", lease=timedelta(minutes=1)) == []

    def test_cancel_and_meet_touch_only_pending_timers_named(
        self, store: Store
    ) -> None:
        case = created(
            store, ("a", T0 + timedelta(hours=1)), ("b", T0 + timedelta(hours=2))
        )
        other = created(store, ("a", T0 + timedelta(hours=1)))
        period = timer(case, "p", T0 + timedelta(hours=3), kind="period")
        store.commit(step(case, arm=(period,)))
        case = store.load_case(case.id)
        # A name that is no pending timer of the case (another case's timer,
        # a due timer given to meet) is left alone.
        store.commit(step(
            case,
            cancel=(*ids(store, case, "a"), *ids(store, other, "a")),
            meet=(period.id, *ids(store, case, "b")),
        ))  # fmt: skip
        states = {(t.deadline, t.state, t.met) for t in store.timers(case.id)}
        assert states == {
            ("a", "cancelled", False),
            ("b", "pending", False),
            ("p", "pending", True),
        }
        (cancelled,) = [t for t in store.timers(case.id) if t.deadline == "a"]
        assert cancelled.closed_at == store.load_case(case.id).updated_at
        assert [t.state for t in store.timers(other.id)] == ["pending"]
        assert [t.deadline for t in store.timers(case.id, pending_only=True)] == [
            "b",
            "p",
        ]

    def test_timers_come_by_due_time_then_arming_order(self, store: Store) -> None:
        due = T0 + timedelta(hours=1)
        case = make_case()
        arm = (
            timer(case, "z", due),
            timer(case, "a", due),
            timer(case, "m", due - timedelta(seconds=1)),
        )
        store.create_case(
            CaseChange(
                case=case, expected_version=0, entries=(entry(case, 1),), arm=arm
            )
        )
        assert [t.deadline for t in store.timers(case.id)] == ["m", "z", "a"]
        assert store.timers(case.id)[0] == arm[2]

    def test_query_filters(self, store: Store) -> None:
        a = created(store, workflow_id="w1", customer="C-1")
        b = created(store, workflow_id="w1", customer="C-2", state="done", closed=True)
        c = created(
            store,
            workflow_id="w2",
            customer="C-1",
            breaches=2,
            created_at=T0 - timedelta(days=1),
        )

        def ids(**kw: Any) -> list[str]:
            return [x.id for x in store.query_cases(CaseQuery(**kw))]

        mine = {a.id, b.id, c.id}
        assert [i for i in ids() if i in mine] == [c.id, a.id, b.id]
        assert [i for i in ids(workflow_id="w1") if i in mine] == [a.id, b.id]
        assert [i for i in ids(customer="C-1") if i in mine] == [c.id, a.id]
        assert [i for i in ids(state="done") if i in mine] == [b.id]
        assert [i for i in ids(closed=False) if i in mine] == [c.id, a.id]
        assert [i for i in ids(breached=True) if i in mine] == [c.id]
        assert len(store.query_cases(CaseQuery(limit=1))) == 1

    def test_queues_by_owner_unit_due_time_and_pages(self, store: Store) -> None:
        wid = new_id("queue")
        soon, later = T0 + timedelta(hours=1), T0 + timedelta(hours=5)
        a = created(store, ("d", later), workflow_id=wid, owner="li", unit="tech")
        b = created(store, ("d", soon), workflow_id=wid, owner="li", unit="ops")
        c = created(store, workflow_id=wid, unit="tech")
        d = created(store, ("d", soon), workflow_id=wid, created_at=T0 + timedelta(1))

        def ids(**kw: Any) -> list[str]:
            return [x.id for x in store.query_cases(CaseQuery(workflow_id=wid, **kw))]

        assert ids(owner="li") == [a.id, b.id]
        assert ids(unit="tech") == [a.id, c.id]
        assert ids(assigned=False) == [c.id, d.id]
        assert ids(due_before=T0 + timedelta(hours=2)) == [b.id, d.id]
        assert ids(order="due") == [b.id, d.id, a.id, c.id]  # nothing due: last
        assert ids(order="due", descending=True) == [a.id, d.id, b.id, c.id]
        assert ids(descending=True) == [d.id, c.id, b.id, a.id]
        assert ids(offset=1, limit=2) == [b.id, c.id]
        assert ids(offset=3) == [d.id]
        assert ids(offset=9) == []
        assert store.count_cases(CaseQuery(workflow_id=wid, offset=1, limit=1)) == 4
        assert store.count_cases(CaseQuery(workflow_id=wid, owner="li")) == 2

    def test_query_by_creation_time(self, store: Store) -> None:
        w = new_id("wf")
        times = [T0 + timedelta(minutes=m) for m in (0, 1, 1, 2)]
        made = [created(store, workflow_id=w, created_at=t) for t in times]

        def ids(**kw: Any) -> list[str]:
            return [c.id for c in store.query_cases(CaseQuery(workflow_id=w, **kw))]

        assert ids(created_from=times[1]) == [c.id for c in made[1:]]
        assert ids(created_before=times[1]) == [made[0].id]
        assert ids(created_from=times[1], created_before=times[3]) == [
            made[1].id,
            made[2].id,
        ]
        assert ids(created_from=times[1], limit=1) == [made[1].id]

    def test_query_by_text_values_of_the_data(self, store: Store) -> None:
        wid = new_id("data")
        a = created(store, workflow_id=wid, data={"severity": "urgent", "n": 3})
        b = created(store, workflow_id=wid, data={"severity": "general", "n": 3})
        created(store, workflow_id=wid, data={"note": "severity: urgent"})
        c = created(store, workflow_id=wid, data={"severity": "urgent", "kind": "x"})

        def ids(data: dict[str, str]) -> list[str]:
            query = CaseQuery(workflow_id=wid, data=data)
            return [x.id for x in store.query_cases(query)]

        assert ids({"severity": "urgent"}) == [a.id, c.id]
        assert ids({"severity": "urgent", "kind": "x"}) == [c.id]
        assert ids({"severity": "general"}) == [b.id]
        assert ids({"n": "3"}) == []  # text compares with text only
        assert ids({"severity": "urgent' OR '1'='1"}) == []
        urgent = CaseQuery(workflow_id=wid, data={"severity": "urgent"})
        assert store.count_cases(urgent) == 2
