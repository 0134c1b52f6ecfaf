"""The store contract, part two: timers, claims and interrupts."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import timedelta

import pytest

from cswork.errors import (
    ConflictError,
    InvalidArgumentError,
)
from cswork.records import (
    Case,
    CaseChange,
    CaseQuery,
    Timer,
)
from cswork.storage.base import Store
from cswork.testing.builders import (
    T0,
    created,
    everything,
    fire_due,
    ids,
    step,
)


class TimerContract:
    """Timers armed, cancelled, met and fired once across workers; arguments and interrupts."""

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
