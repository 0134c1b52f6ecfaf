"""Cases that start other cases: the return visit after a repair and after a complaint.

Sources: 003 三 1 (服务部3-5天后电访: the service department calls 3–5 days after
a repair), 001 投诉跟踪与回访 and 004 §1.3 (every complaint customer is visited
after the complaint is handled).
"""

from __future__ import annotations

from typing import Any

import pytest

from cswork import Actor, ConditionNotMetError, Engine, VirtualClock

from .conftest import AGENT, ENGINEER, HEAD, LEAD, local
from .helpers import assert_consistent, routed_complaint


def _known(engine: Engine, workflow: str, data: dict[str, Any]) -> dict[str, Any]:
    """The part of ``data`` the workflow declares (the shipped SOPs gain fields)."""
    fields = engine.definition(workflow).fields
    return {k: v for k, v in data.items() if k in fields}


def _fire(
    engine: Engine, cid: str, event: str, actor: Actor, data: dict[str, Any]
) -> None:
    engine.fire(cid, event, actor, _known(engine, "repair", data))


def completed_onsite_repair(engine: Engine) -> str:
    """A repair taken, done onsite and signed off; returns its id."""
    case = engine.start(
        "repair",
        AGENT,
        {
            "customer_id": "C-1",
            "contact_name": "Ms Chen",
            "contact_phone": "138",
            "product_model": "X1",
            "fault": "no power",
            "location": "Pudong",
            "situation": "line stopped",
        },
    )
    cid = case.id
    _fire(
        engine,
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": ENGINEER.id, "estimated_repair_time": "2h"},
    )
    _fire(
        engine,
        cid,
        "schedule_visit",
        ENGINEER,
        {"appointment_at": "2026-03-03T15:00:00+08:00", "appointment_place": "site"},
    )
    _fire(engine, cid, "prepare", ENGINEER, {"tools_ready": True})
    _fire(engine, cid, "arrive", ENGINEER, {"id_shown": True, "fault_confirmed": True})
    _fire(engine, cid, "diagnose", ENGINEER, {"diagnosis": "fuse"})
    _fire(engine, cid, "repair", ENGINEER, {"cause_and_method": "replaced the fuse"})
    _fire(engine, cid, "demonstrate", ENGINEER, {"works_normally": True})
    _fire(engine, cid, "sign_off", ENGINEER, {"customer_signature": "Chen"})
    return cid


def test_repair_completion_starts_its_service_visit(engine: Engine):
    """003 三 1 服务部3-5天后电访: completing the repair starts the visit, linked both ways."""
    rid = completed_onsite_repair(engine)  # signed off on Tuesday 3 March, 10:00
    repair = engine.get(rid)
    assert repair.state == "completed"
    (visit,) = engine.query(workflow="return_visit")
    assert repair.data["return_visit_case"] == visit.id
    assert visit.data["repair_case"] == rid
    assert visit.data["kind"] == "service"
    assert visit.data["customer_id"] == "C-1"
    # Due 5 working days after the completion; refused before 3 working days.
    assert visit.armed["service_window"] == local(2026, 3, 10, 10, 0)
    with pytest.raises(ConditionNotMetError):  # the window opens on Friday 10:00
        engine.fire(
            visit.id, "complete", AGENT, {"visit_note": "ok", "satisfaction": 5}
        )
    assert_consistent(engine, visit.id)


def test_take_back_repair_return_starts_its_service_visit(engine: Engine):
    """003 三 1 服务部3-5天后电访: the take-back path ends with the visit too."""
    case = engine.start(
        "repair",
        AGENT,
        {
            "customer_id": "C-2",
            "contact_name": "Mr Wu",
            "contact_phone": "139",
            "product_model": "X2",
            "fault": "noise",
            "location": "Minhang",
            "situation": "works, noisy",
        },
    )
    cid = case.id
    _fire(engine, cid, "take_back", AGENT, {"engineer": ENGINEER.id})
    _fire(
        engine,
        cid,
        "pick_up",
        ENGINEER,
        {
            "handover_model": "X2",
            "handover_quantity": 1,
            "handover_fault": "noise",
            "handover_signed": True,
        },
    )
    workshop = Actor("shop.wu", {"workshop"})
    _fire(engine, cid, "workshop_repaired", workshop, {"workshop_report": "bearing"})
    _fire(engine, cid, "retest_passed", ENGINEER, {"test_passed": True})
    _fire(
        engine,
        cid,
        "return_product",
        ENGINEER,
        {"return_signed": True, "list_taken_back": True},
    )
    (visit,) = engine.query(workflow="return_visit")
    assert engine.get(cid).data["return_visit_case"] == visit.id
    assert (visit.data["repair_case"], visit.data["kind"]) == (cid, "service")


def test_closed_complaint_starts_its_return_visit(engine: Engine, clock: VirtualClock):
    """001 投诉处理完成后对客户进行回访, 004 §1.3: the closed complaint starts its visit."""
    cid = routed_complaint(engine)
    engine.fire(
        cid,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "swap",
            "handler": "head.zhao",
        },
    )
    engine.fire(
        cid,
        "resolve",
        HEAD,
        _known(
            engine,
            "complaint",
            {
                "resolution": "swapped",
                "evidence": "photos",
                "responsible_person": "zhao",
            },
        ),
    )
    engine.fire(cid, "inform_result", LEAD, {"result_note": "told"})
    engine.fire(cid, "accept", LEAD)
    clock.set(local(2026, 3, 4, 11, 0))
    engine.fire(cid, "return_visit", AGENT, {"visit_note": "fix held"})
    complaint = engine.get(cid)
    assert complaint.state == "closed"
    (visit,) = engine.query(workflow="return_visit")
    assert complaint.data["return_visit_case"] == visit.id
    assert visit.data["complaint_case"] == cid
    assert visit.data["kind"] == "complaint"
    # default: 3 working days after the complaint closed (Wednesday 11:00)
    assert visit.armed["after_complaint"] == local(2026, 3, 9, 11, 0)


@pytest.mark.parametrize(
    ("kind", "channel", "becomes"),
    [("complaint", "fax", "letter"), ("routine_problem", "fax", "fax")],
)
def test_an_inquiry_converts_keeping_the_time_the_customer_first_called(
    engine: Engine, clock: VirtualClock, kind: str, channel: str, becomes: str
):
    """004 §2.2.2 受理人确认问题的类型: the taker converts the inquiry; the new
    case's contact deadlines count from acceptance (004 §2.4.2, §2.3): a call at
    10:00 converted at 15:00 and classified important is due at 18:00."""
    inquiry = engine.start(
        "inquiry",
        AGENT,
        {"customer_id": "C-7", "channel": channel, "question": "It broke"},
    )
    accepted = engine.clock.now()
    clock.set(local(2026, 3, 3, 15, 0))
    engine.fire(
        inquiry.id,
        "convert",
        AGENT,
        {"problem_kind": kind, "conversion_note": "the customer is angry"},
    )
    (new,) = engine.query(workflow=kind)
    old = engine.get(inquiry.id)
    assert old.state == "converted"
    assert old.data["converted_case"] == new.id
    assert new.data["source_case"] == inquiry.id
    assert (new.data["customer_id"], new.data["channel"]) == ("C-7", becomes)
    assert new.accepted_at == accepted
    if kind == "complaint":
        engine.fire(new.id, "record", LEAD, {
            "organisation": "ACME", "contact_person": "Ms Chen", "phone": "138",
            "request": "fix", "expectation": "today", "apologised": True,
            "current_situation": "line stopped"})  # fmt: skip
        engine.fire(
            new.id, "classify", LEAD, {"type": "product", "severity": "important"}
        )
        deadline = "first_contact_important"
    else:
        engine.fire(
            new.id, "route", AGENT, {
                "kind": "training", "severity": "important", "contact_person": "Ms Chen",
                "request": "a course", "phone": "138"})  # fmt: skip
        deadline = "first_contact_important"
    assert engine.get(new.id).armed[deadline] == local(2026, 3, 3, 18, 0)
    assert_consistent(engine, new.id)
