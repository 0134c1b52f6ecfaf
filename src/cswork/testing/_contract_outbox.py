"""The store contract, part three: the outbox, definitions, batches and bulk reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from cswork.errors import (
    CaseNotFoundError,
    ConflictError,
    DefinitionChangedError,
    UnknownWorkflowError,
)
from cswork.records import (
    CaseChange,
    StoredDefinition,
)
from cswork.storage.base import Store
from cswork.testing.builders import (
    T0,
    created,
    entry,
    everything,
    make_case,
    new_id,
    outbox,
    step,
)


class OutboxContract:
    """Outbox leases and acknowledgements, stored definitions, batches, bulk histories."""

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
