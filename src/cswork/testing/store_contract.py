"""``StoreContract``: the tests every ``Store`` must pass.

Reuse it for your own backend::

    import pytest
    from cswork.testing.store_contract import StoreContract

    class TestMyStore(StoreContract):
        @pytest.fixture
        def store(self):
            s = MyStore(...)
            yield s
            s.close()

        @pytest.fixture
        def second_store(self, store):  # optional: a second handle on the same data
            return MyStore(...)

The tests build records by hand (no engine, no workflow), so they check the
store contract alone.
"""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    DefinitionChangedError,
    InvalidArgumentError,
    UnknownWorkflowError,
)
from cswork.records import (
    Case,
    CaseChange,
    CaseQuery,
    StoredDefinition,
    Timer,
)
from cswork.storage.base import Store
from cswork.testing.builders import (
    T0,
    created,
    entry,
    everything,
    fire_due,
    ids,
    make_case,
    new_id,
    outbox,
    step,
    timer,
)

__all__ = [
    "T0",
    "StoreContract",
    "created",
    "entry",
    "everything",
    "fire_due",
    "ids",
    "make_case",
    "new_id",
    "outbox",
    "step",
    "timer",
]


class StoreContract:
    """Tests every ``Store`` must pass. Subclass it and provide a ``store`` fixture."""

    @pytest.fixture
    def second_store(self, store: Store) -> Store:
        """Another handle on the same data (override for multi-connection backends)."""
        return store

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

    # ------------------------------------------------------------ timers
    def _fire(self, case: Case, t: Timer, note: str = "") -> CaseChange:
        return step(
            case, at=t.due_at, fired_timer=t.id, new={"breaches": case.breaches + 1}
        )

    def test_only_due_pending_timers_are_claimed_and_fired(self, store: Store) -> None:
        soon, later = T0 + timedelta(minutes=5), T0 + timedelta(hours=5)
        case = created(store, ("a", soon), ("b", later), ("c", soon))
        store.commit(step(store.load_case(case.id), cancel=ids(store, case, "c")))
        assert store.next_due_at() is not None
        seen: list[tuple[int, str]] = []

        def handler(c: Case, t: Timer) -> CaseChange:
            seen.append((c.version, t.deadline))
            return self._fire(c, t)

        fired = fire_due(store, soon, handler, worker_id="w")
        assert [c.fired_timer for c in fired] == [
            t.id for t in store.timers(case.id, pending_only=False) if t.deadline == "a"
        ]
        assert seen == [(2, "a")]
        assert store.load_case(case.id).breaches == 1
        assert fire_due(store, soon, handler, worker_id="w") == []
        states = {t.deadline: t.state for t in store.timers(case.id)}
        assert states == {"a": "fired", "b": "pending", "c": "cancelled"}

    def test_handler_sees_the_case_as_of_the_previous_timer(self, store: Store) -> None:
        case = created(store, ("a", T0), ("b", T0 + timedelta(seconds=1)))
        versions: list[int] = []

        def handler(c: Case, t: Timer) -> CaseChange:
            versions.append(c.version)
            return self._fire(c, t)

        assert (
            len(fire_due(store, T0 + timedelta(hours=1), handler, worker_id="w")) == 2
        )
        assert versions == [1, 2]
        assert store.load_case(case.id).version == 3

    def test_a_timer_cancelled_by_an_earlier_one_in_the_batch_is_skipped(
        self, store: Store
    ) -> None:
        case = created(store, ("a", T0), ("b", T0))
        b = ids(store, case, "b")

        def handler(c: Case, t: Timer) -> CaseChange:
            return replace(self._fire(c, t), cancel=b)

        fired = fire_due(store, T0, handler, worker_id="w")
        assert len(fired) == 1
        assert {t.deadline: t.state for t in store.timers(case.id)} == {
            "a": "fired",
            "b": "cancelled",
        }

    def test_a_case_changed_twice_in_one_batch_keeps_its_order(
        self, store: Store
    ) -> None:
        other = created(store, ("z", T0))
        case = created(store, ("a", T0 + timedelta(seconds=1)),
                       ("b", T0 + timedelta(seconds=2)))  # fmt: skip

        def handler(c: Case, t: Timer) -> CaseChange:
            # Changes that name the case they replace write only what changed,
            # so the two changes of ``case`` are two different statements.
            new = {"state": "moved"} if t.deadline == "a" else {"breaches": 1}
            return replace(step(c, fired_timer=t.id, new=new), previous=c)

        assert (
            len(fire_due(store, T0 + timedelta(hours=1), handler, worker_id="w")) == 3
        )
        assert (store.load_case(case.id).state, store.load_case(case.id).version) == (
            "moved",
            3,
        )
        assert store.load_case(other.id).breaches == 1

    def test_a_failing_handler_writes_nothing(self, store: Store) -> None:
        case = created(store, ("a", T0))
        before = everything(store, case.id)

        def handler(c: Case, t: Timer) -> CaseChange:
            raise RuntimeError("boom")

        with pytest.raises(RuntimeError):
            fire_due(store, T0, handler, worker_id="w")
        assert everything(store, case.id) == before
        assert len(fire_due(store, T0, self._fire, worker_id="w")) == 1

    def test_limit_and_order(self, store: Store) -> None:
        base = T0 - timedelta(days=400)
        cases = [created(store, ("d", base + timedelta(seconds=i))) for i in (3, 1, 2)]
        fired = fire_due(
            store, base + timedelta(seconds=5), self._fire, worker_id="w", limit=2
        )
        assert [c.case.id for c in fired] == [cases[1].id, cases[2].id]

    def test_firing_a_closed_timer_conflicts(self, store: Store) -> None:
        case = created(store, ("a", T0))
        (t,) = store.timers(case.id)
        store.commit(step(store.load_case(case.id), cancel=(t.id,)))
        before = everything(store, case.id)
        with pytest.raises(ConflictError):
            store.commit(step(store.load_case(case.id), fired_timer=t.id))
        assert everything(store, case.id) == before

    def test_each_timer_fires_once_across_workers(
        self, store: Store, second_store: Store
    ) -> None:
        due = T0 - timedelta(days=800)
        cases = [
            created(store, ("d", due + timedelta(milliseconds=i))) for i in range(60)
        ]
        fired: list[str] = []
        errors: list[BaseException] = []

        def work(s: Store, worker: str) -> None:
            try:
                while True:
                    got = fire_due(
                        s,
                        due + timedelta(seconds=1),
                        self._fire,
                        worker_id=worker,
                        limit=7,
                    )
                    fired.extend(c.fired_timer for c in got)
                    if not got:
                        return
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [
            threading.Thread(target=work, args=(s, f"w{i}"))
            for i, s in enumerate([store, second_store, store, second_store])
        ]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        assert errors == []
        mine = {t.id for c in cases for t in store.timers(c.id)}
        assert sorted(f for f in fired if f in mine) == sorted(mine)
        assert all(store.load_case(c.id).breaches == 1 for c in cases)

    def test_a_claim_left_without_commit_fires_nothing(self, store: Store) -> None:
        case = created(store, ("a", T0))
        before = everything(store, case.id)
        with store.claim_due(T0, worker_id="w") as batch:
            assert [t.deadline for t in batch.timers] == ["a"]
            assert batch.cases[case.id] == store.load_case(case.id)
        assert everything(store, case.id) == before
        with store.claim_due(T0, worker_id="w") as batch:
            assert [t.deadline for t in batch.timers] == ["a"]
            change = self._fire(batch.cases[case.id], batch.timers[0])
            batch.commit([change])
            with pytest.raises(InvalidArgumentError):
                batch.commit([change])
        assert [t.state for t in store.timers(case.id)] == ["fired"]

    def test_an_interrupt_anywhere_writes_nothing_and_holds_no_lock(
        self, store: Store, second_store: Store
    ) -> None:
        case = created(store, ("a", T0))
        before = everything(store, case.id)

        def interrupted_claim() -> None:
            with store.claim_due(T0, worker_id="w") as b:
                b.commit([self._fire(b.cases[case.id], b.timers[0])])
                raise KeyboardInterrupt

        def interrupted_batch() -> None:
            with store.batch():
                store.commit(step(store.load_case(case.id)))
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            interrupted_claim()
        with pytest.raises(KeyboardInterrupt):
            interrupted_batch()
        assert everything(store, case.id) == before
        # Nothing is left locked: another handle writes at once, and so does this.
        second_store.commit(step(second_store.load_case(case.id)))
        store.commit(step(store.load_case(case.id)))
        assert store.load_case(case.id).version == 3

    def test_bad_arguments_are_refused_before_anything_happens(
        self, store: Store
    ) -> None:
        case = created(store, ("a", T0))
        before = everything(store, case.id)
        lease = timedelta(minutes=1)
        for bad in (0, -1, "1", 1.5, True, None):
            with pytest.raises(InvalidArgumentError):  # noqa: SIM117 - the enter raises
                with store.claim_due(T0, worker_id="w", limit=bad):  # type: ignore[arg-type]
                    pass
            with pytest.raises(InvalidArgumentError):
                store.claim_outbox(T0, worker_id="w", lease=lease, limit=bad)  # type: ignore[arg-type]
        for bad_lease in (timedelta(0), -lease, 60):
            with pytest.raises(InvalidArgumentError):
                store.claim_outbox(T0, worker_id="w", lease=bad_lease)  # type: ignore[arg-type]
        for kw in ({"closed": "yes"}, {"breached": 1}, {"limit": "x"}, {"limit": -1},
                   {"workflow_id": 7}, {"customer": ["C-1"]}):  # fmt: skip
            with pytest.raises(InvalidArgumentError):
                CaseQuery(**kw)
        assert everything(store, case.id) == before

    # ------------------------------------------------------------ outbox
    def test_undelivered_items_are_listed_until_acknowledged(
        self, store: Store
    ) -> None:
        case = make_case()
        items = (outbox(case), outbox(case, kind="start_case", target="wf2"))
        store.create_case(
            CaseChange(
                case=case, expected_version=0, entries=(entry(case, 1),), outbox=items
            )
        )
        assert store.outbox(case.id) == list(items)
        assert [i for i in store.outbox() if i.case_id == case.id] == list(items)
        got = store.claim_outbox(T0, worker_id="a", lease=timedelta(minutes=1),
                                 case_id=case.id)  # fmt: skip
        assert store.outbox(case.id) == list(items)  # leased is not delivered
        store.ack_outbox([got[0].id], worker_id="a")
        assert store.outbox(case.id) == [items[1]]

    def test_outbox_lease_and_ack(self, store: Store, second_store: Store) -> None:
        case = make_case()
        items = (outbox(case), outbox(case, kind="call", target="hook", roles=()))
        store.create_case(
            CaseChange(
                case=case, expected_version=0, entries=(entry(case, 1),), outbox=items
            )
        )
        lease = timedelta(minutes=1)
        got = store.claim_outbox(T0, worker_id="a", lease=lease, case_id=case.id)
        assert got == list(items)
        assert (
            second_store.claim_outbox(T0, worker_id="b", lease=lease, case_id=case.id)
            == []
        )
        store.ack_outbox([items[0].id], worker_id="b")  # not b's lease: ignored
        later = T0 + timedelta(minutes=2)
        again = second_store.claim_outbox(
            later, worker_id="b", lease=lease, case_id=case.id
        )
        assert again == list(items)
        second_store.ack_outbox([i.id for i in again], worker_id="b")
        assert (
            store.claim_outbox(
                later + lease * 2, worker_id="a", lease=lease, case_id=case.id
            )
            == []
        )

    def test_outbox_items_can_be_committed_already_leased(
        self, store: Store, second_store: Store
    ) -> None:
        case = make_case()
        item = outbox(case)
        store.create_case(CaseChange(
            case=case, expected_version=0, entries=(entry(case, 1),), outbox=(item,),
            outbox_owner="a", outbox_until=T0 + timedelta(minutes=1)))  # fmt: skip
        lease = timedelta(minutes=1)
        assert (
            second_store.claim_outbox(T0, worker_id="b", lease=lease, case_id=case.id)
            == []
        )
        later = T0 + timedelta(minutes=2)  # the owner died: anyone may deliver it
        assert second_store.claim_outbox(
            later, worker_id="b", lease=lease, case_id=case.id
        ) == [item]
        store.ack_outbox([item.id], worker_id="a")  # no longer a's lease: ignored
        second_store.ack_outbox([item.id], worker_id="b")
        assert (
            store.claim_outbox(
                later + lease * 2, worker_id="a", lease=lease, case_id=case.id
            )
            == []
        )

    # ------------------------------------------------------------ definitions
    def test_definitions_are_kept_once_per_version(self, store: Store) -> None:
        wid = new_id("wf")
        d = StoredDefinition(workflow_id=wid, version=1, digest="abc", source="{}")
        store.save_definition(d)
        store.save_definition(d)
        assert store.load_definition(wid, 1) == d
        with pytest.raises(DefinitionChangedError):
            store.save_definition(replace(d, digest="def", source='{"x":1}'))
        with pytest.raises(UnknownWorkflowError):
            store.load_definition(wid, 2)
        assert [x for x in store.list_definitions() if x.workflow_id == wid] == [d]

    # ------------------------------------------------------------ batches
    def test_batch_commits_together_or_not_at_all(self, store: Store) -> None:
        case = created(store)
        with store.batch():
            store.commit(step(case))
            other = created(store)
        assert store.load_case(case.id).version == 2
        before = everything(store, case.id)

        def abort() -> None:
            with store.batch():
                store.commit(step(store.load_case(case.id)))
                created(store, case_id="batch-rolled-back")
                raise RuntimeError("abort")

        with pytest.raises(RuntimeError):
            abort()
        assert everything(store, case.id) == before
        assert store.load_case(other.id).version == 1
        with pytest.raises(CaseNotFoundError):
            store.load_case("batch-rolled-back")

    def test_a_conflict_inside_a_batch_spoils_only_that_commit(
        self, store: Store
    ) -> None:
        case = created(store)
        with store.batch():
            store.commit(step(case))
            with pytest.raises(ConflictError):
                store.commit(step(case))  # stale
            store.commit(step(store.load_case(case.id)))
        assert [e.seq for e in store.history(case.id)] == [1, 2, 3]

    # ------------------------------------------------------------ reports
    def test_histories_in_bulk_equal_one_by_one(self, store: Store) -> None:
        with store.batch():
            cases = [created(store) for _ in range(501)]  # more than one SQL chunk
        first, last = cases[0], cases[-1]
        store.commit(step(first))
        store.commit(step(store.load_case(first.id)))
        ids = [last.id, "no-such-case", first.id, last.id]
        got = store.histories(ids)
        assert list(got) == [last.id, "no-such-case", first.id]
        assert got["no-such-case"] == []
        assert got[first.id] == store.history(first.id)
        assert [e.seq for e in got[first.id]] == [1, 2, 3]
        every = store.histories([c.id for c in cases])
        assert len(every) == len(cases)
        assert all(every[c.id] == store.history(c.id) for c in cases[::50])
        assert store.histories([]) == {}

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
