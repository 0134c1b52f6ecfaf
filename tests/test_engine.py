"""The engine API: starts, refusals, hooks, version pinning, queries, restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from cswork import (
    Actor,
    CaseView,
    ConflictError,
    DefinitionChangedError,
    Engine,
    HookCall,
    Hooks,
    IllegalEventError,
    InvalidDataError,
    PermissionDeniedError,
    UnknownWorkflowError,
    UnregisteredHookError,
    VirtualClock,
)
from cswork.definition import load_text
from cswork.storage import MemoryStore, SQLiteStore

from .conftest import AGENT, LEAD, WORKFLOWS, Recorder, local
from .helpers import assert_consistent, routed_complaint, snapshot
from .test_loader import GOOD

V2 = (
    GOOD.replace("version: 1", "version: 2")
    .replace(
        "  - {event: close, from: open, to: closed, roles: [lead]}",
        "  - {event: close, from: open, to: review, roles: [lead]}\n"
        "  - {event: approve, from: review, to: closed, roles: [lead]}",
    )
    .replace("  closed: {final: true}", "  closed: {final: true}\n  review: {}")
)
AG = Actor("a", {"agent"})
LD = Actor("l", {"lead"})


def demo_engine(*texts: str, store: Any = None, **kw: Any) -> Engine:
    return Engine(
        [load_text(t) for t in texts],
        store=store or MemoryStore(),  # type: ignore[misc]
        clock=VirtualClock(local(2026, 3, 3, 10, 0)),
        **kw,
    )


def test_start_refusals_write_nothing(engine: Engine):
    with pytest.raises(UnknownWorkflowError, match="complaint"):
        engine.start("complain", AGENT, {})
    with pytest.raises(PermissionDeniedError) as denied:
        engine.start("complaint", Actor("x", {"tech_support"}), {})
    assert denied.value.required_roles == ("cs_agent", "cs_lead")
    with pytest.raises(InvalidDataError) as invalid:
        engine.start(
            "complaint",
            AGENT,
            {
                "customer_id": 7,
                "channel": "pigeon",
                "summary": "a\x00b",
                "colour": "red",
            },
        )
    assert invalid.value.field_errors == {
        "customer_id": "expected text, got int",
        "channel": "'pigeon' is not one of phone, email, chat, letter",
        "summary": "contains a NUL character",
        "colour": "not accepted by this step",
    }
    assert engine.query() == []


def test_data_is_normalised_and_history_records_who_and_what(engine: Engine):
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C-1", "channel": "email", "question": "?"}
    )
    (entry,) = engine.history(case.id)
    assert entry.actor == "agent.li"
    assert entry.roles == ("cs_agent",)
    assert entry.kind == "start"
    assert entry.from_state is None
    assert entry.to_state == "received"
    assert dict(entry.changes) == {
        "customer_id": "C-1",
        "channel": "email",
        "question": "?",
    }
    assert entry.detail == {"armed": ["first_response_written"]}


def test_pinned_versions(tmp_path: Path):
    store = SQLiteStore(tmp_path / "c.db")
    v1 = demo_engine(GOOD, store=store)
    old = v1.start("demo", AG, {"customer_id": "C"})
    v1.fire(old.id, "take", AG)
    v1.add_workflows([load_text(V2)])  # a newer version, loaded later
    new = v1.start("demo", AG, {"customer_id": "C"})
    assert (old.workflow_version, new.workflow_version) == (1, 2)
    v1.fire(new.id, "take", AG)
    assert v1.fire(new.id, "close", LD).state == "review"
    assert v1.fire(old.id, "close", LD).state == "closed"  # still on version 1
    # A process that only knows version 2 still runs version-1 cases.
    store2 = SQLiteStore(tmp_path / "c.db")
    v2_only = demo_engine(V2, store=store2)
    old2 = v2_only.start("demo", AG, {"customer_id": "C"}, version=1)
    assert old2.workflow_version == 1
    v2_only.fire(old2.id, "take", AG)
    assert v2_only.fire(old2.id, "close", LD).state == "closed"


def test_changing_a_stored_version_needs_a_new_number():
    store = MemoryStore()
    demo_engine(GOOD, store=store)
    with pytest.raises(DefinitionChangedError, match="new 'version'"):
        demo_engine(GOOD.replace("title: Demo", "title: Changed"), store=store)


def test_named_conditions_and_hooks_must_be_registered():
    text = GOOD.replace(
        "roles: [lead]}", "roles: [lead], when: vip(), actions: [{call: open_ticket}]}"
    )
    with pytest.raises(UnregisteredHookError) as err:
        demo_engine(text)
    assert [str(p) for p in err.value.problems] == [
        "<string>:15:65: condition 'vip' is not registered with the engine's Hooks",
        (
            "<string>:15:89: action hook 'open_ticket' is not registered with the "
            "engine's Hooks"
        ),
    ]
    hooks = Hooks()
    calls: list[HookCall] = []
    seen: list[CaseView] = []

    @hooks.condition("vip")
    def vip(case: CaseView) -> bool:
        seen.append(case)
        return str(case.data["customer_id"]).startswith("VIP")

    hooks.action("open_ticket")(calls.append)
    engine = demo_engine(text, hooks=hooks)
    plain = engine.start("demo", AG, {"customer_id": "C-1"})
    engine.fire(plain.id, "take", AG)
    with pytest.raises(Exception, match="needs vip"):
        engine.fire(plain.id, "close", LD)
    vip_case = engine.start("demo", AG, {"customer_id": "VIP-1"})
    engine.fire(vip_case.id, "take", AG)
    engine.fire(vip_case.id, "close", LD)
    assert seen[-1].event == "close"
    assert seen[-1].actor == LD
    assert [(c.case_id, c.hook, c.reason) for c in calls] == [
        (vip_case.id, "open_ticket", "close")
    ]


def test_failed_notifications_are_retried_after_their_lease(clock: VirtualClock):
    class Flaky(Recorder):
        fail = True

        def notify(self, notice: Any) -> None:
            if self.fail:
                raise RuntimeError("mail server down")
            super().notify(notice)

    flaky = Flaky()
    engine = Engine.from_directory(WORKFLOWS, clock=clock, notifier=flaky)
    routed_complaint(engine, "urgent")
    assert flaky.notices == []
    flaky.fail = False
    assert engine.deliver() == 0  # still leased
    clock.advance(engine_lease := __import__("datetime").timedelta(minutes=2))
    assert engine_lease
    assert engine.deliver() == 2
    assert {r for n in flaky.notices for r in (*n.roles, *n.unit_roles)} == {
        "dept_head",
        "cs_manager",
        "leadership",
    }
    assert engine.deliver() == 0  # delivered once


def test_query_by_workflow_state_customer_and_closed(engine: Engine):
    a = engine.start(
        "inquiry", AGENT, {"customer_id": "C-1", "channel": "phone", "question": "?"}
    )
    b = engine.start(
        "inquiry", AGENT, {"customer_id": "C-2", "channel": "phone", "question": "?"}
    )
    c = engine.start(
        "complaint", AGENT, {"customer_id": "C-1", "channel": "phone", "summary": "s"}
    )
    engine.fire(b.id, "respond", AGENT)
    assert [x.id for x in engine.query(customer="C-1")] == [a.id, c.id]
    assert [x.id for x in engine.query(workflow="inquiry", state="in_progress")] == [
        b.id
    ]
    assert [x.id for x in engine.query(closed=False, limit=2)] == [a.id, b.id]
    assert engine.query(closed=True) == []
    assert engine.allowed_events(b.id, AGENT) == ["answer", "convert", "transfer"]
    assert engine.allowed_events(b.id, LEAD) == []


def test_a_new_engine_on_the_same_file_carries_on(tmp_path: Path, clock: VirtualClock):
    first = Engine.from_directory(
        WORKFLOWS, store=SQLiteStore(tmp_path / "c.db"), clock=clock
    )
    case = first.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "email", "question": "?"}
    )
    first.fire(case.id, "respond", AGENT)
    first.store.close()
    second = Engine.from_directory(
        WORKFLOWS, store=SQLiteStore(tmp_path / "c.db"), clock=clock
    )
    second.fire(case.id, "transfer", AGENT, {"question_detail": "d"})
    assert [h.event for h in second.history(case.id)] == [
        "start",
        "respond",
        "transfer",
    ]
    assert_consistent(second, case.id)


def test_a_stale_write_loses_and_writes_nothing(engine: Engine):
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "phone", "question": "?"}
    )
    from cswork.engine.check import check_event

    planner = engine._planner("inquiry")
    request = check_event(
        planner.wf, case, "respond", AGENT, {}, {}, engine.clock.now()
    )
    stale = planner.event(case, request, engine.clock.now())
    engine.fire(case.id, "respond", AGENT)
    before = snapshot(engine, case.id)
    with pytest.raises(ConflictError):
        engine.store.commit(stale)
    assert snapshot(engine, case.id) == before


def test_illegal_event_lists_what_is_allowed(engine: Engine):
    case = engine.start(
        "inquiry", AGENT, {"customer_id": "C", "channel": "phone", "question": "?"}
    )
    with pytest.raises(IllegalEventError) as err:
        engine.fire(case.id, "close", AGENT)
    assert (err.value.state, err.value.event, err.value.allowed) == (
        "received",
        "close",
        ("convert", "respond"),
    )
    with pytest.raises(IllegalEventError):
        engine.fire(case.id, "no_such_event", AGENT)


def test_text_must_be_valid_unicode(engine: Engine):
    with pytest.raises(InvalidDataError) as err:
        engine.start(
            "inquiry",
            AGENT,
            {
                "customer_id": "C",
                "channel": "phone",
                "question": "lone \ud800 surrogate",
            },
        )
    assert err.value.field_errors == {
        "question": "is not valid Unicode text (lone surrogate)"
    }


def test_outbox_items_are_delivered_once_and_acknowledged_in_batches(
    clock: VirtualClock, notifier: Recorder
):
    from datetime import timedelta

    store = MemoryStore()
    engine = Engine.from_directory(
        WORKFLOWS, store=store, clock=clock, notifier=notifier
    )
    routed_complaint(engine, "urgent")
    assert len(notifier.notices) == 2  # delivered at once, not yet acknowledged
    other = Engine.from_directory(
        WORKFLOWS, store=store, clock=clock, notifier=notifier
    )
    assert other.deliver() == 0  # still leased to the first engine
    engine.flush()
    clock.advance(timedelta(minutes=5))
    assert other.deliver() == 0  # acknowledged: nothing left to deliver
    assert len(notifier.notices) == 2
