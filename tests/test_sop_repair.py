"""Every path of the shipped repair SOP, and the linked parts-scrap and emergency SOPs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import ConditionNotMetError, Engine, VirtualClock

from .conftest import AGENT, ENGINEER, MANAGER, WAREHOUSE, WORKSHOP, Recorder, local
from .helpers import assert_consistent, snapshot, steps

INTAKE = {
    "customer_id": "C-3",
    "contact_name": "Mr Lin",
    "contact_phone": "138",
    "product_model": "X-200",
    "fault": "no power",
    "location": "Pudong",
    "situation": "line stopped",
}


def reported(engine: Engine) -> str:
    return engine.start("repair", AGENT, INTAKE).id


def onsite_until_on_site(engine: Engine, cid: str) -> None:
    engine.fire(
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": "eng.zhou", "estimated_repair_time": "2h"},
    )
    engine.fire(
        cid,
        "schedule_visit",
        ENGINEER,
        {"appointment_at": "2026-03-04T10:00:00+08:00", "appointment_place": "site"},
    )
    engine.fire(cid, "prepare", ENGINEER, {"tools_ready": True})
    engine.fire(cid, "arrive", ENGINEER, {"id_shown": True, "fault_confirmed": True})


def take_back_from_pickup(
    engine: Engine, cid: str, *, retest_fails: bool = False
) -> None:
    engine.fire(
        cid,
        "pick_up",
        ENGINEER,
        {
            "handover_model": "X-200",
            "handover_quantity": 1,
            "handover_fault": "no power",
            "handover_signed": True,
        },
    )
    engine.fire(cid, "workshop_repaired", WORKSHOP, {"workshop_report": "new PSU"})
    if retest_fails:
        engine.fire(cid, "retest_failed", ENGINEER, {"test_passed": False})
        engine.fire(
            cid, "workshop_repaired", WORKSHOP, {"workshop_report": "new board"}
        )
    engine.fire(cid, "retest_passed", ENGINEER, {"test_passed": True})
    engine.fire(
        cid,
        "return_product",
        ENGINEER,
        {"return_signed": True, "list_taken_back": True},
    )


def test_guided_self_repair_that_works(engine: Engine):
    cid = reported(engine)
    engine.fire(cid, "guide", AGENT, {"guidance_note": "reset the breaker"})
    case = engine.fire(cid, "guided_fix_worked", AGENT)
    assert case.state == "self_repaired"
    assert case.closed


def test_guided_self_repair_that_fails_goes_onsite(engine: Engine):
    cid = reported(engine)
    engine.fire(cid, "guide", AGENT, {"guidance_note": "reset the breaker"})
    onsite_until_on_site(engine, cid)
    assert engine.get(cid).state == "on_site"


def test_full_onsite_repair_needs_the_customer_signature(engine: Engine):
    cid = reported(engine)
    onsite_until_on_site(engine, cid)
    engine.fire(cid, "diagnose", ENGINEER, {"diagnosis": "PSU"})
    engine.fire(cid, "repair", ENGINEER, {"cause_and_method": "replaced the PSU"})
    engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": True})
    before = snapshot(engine, cid)
    with pytest.raises(Exception) as err:
        engine.fire(cid, "sign_off", ENGINEER, {})
    assert getattr(err.value, "field_errors", None) == {
        "customer_signature": "required"
    }
    assert snapshot(engine, cid) == before
    engine.fire(cid, "sign_off", ENGINEER, {"customer_signature": "Lin"})
    engine.advance(timedelta(days=4))
    engine.fire(cid, "return_visit", AGENT, {"visit_note": "ok"})
    case = engine.get(cid)
    assert case.state == "closed"
    assert case.breaches == 0
    assert "warning:return_visit" in steps(engine, cid)
    assert_consistent(engine, cid)


def test_engineer_cannot_arrive_unprepared_or_without_id(engine: Engine):
    cid = reported(engine)
    engine.fire(
        cid, "dispatch_onsite", AGENT, {"engineer": "eng.zhou", "estimated_repair_time": "1h"}
    )
    engine.fire(
        cid,
        "schedule_visit",
        ENGINEER,
        {"appointment_at": "2026-03-04T10:00:00+08:00", "appointment_place": "site"},
    )
    with pytest.raises(ConditionNotMetError):
        engine.fire(
            cid, "arrive", ENGINEER, {"id_shown": True, "fault_confirmed": True}
        )
    engine.fire(cid, "prepare", ENGINEER, {"tools_ready": True})
    with pytest.raises(ConditionNotMetError):
        engine.fire(
            cid, "arrive", ENGINEER, {"id_shown": False, "fault_confirmed": True}
        )


def test_onsite_switches_to_take_back(engine: Engine):
    cid = reported(engine)
    onsite_until_on_site(engine, cid)
    engine.fire(cid, "diagnose", ENGINEER, {"diagnosis": "board"})
    engine.fire(
        cid, "switch_to_take_back", ENGINEER, {"switch_reason": "needs the bench"}
    )
    take_back_from_pickup(engine, cid)
    assert engine.get(cid).state == "completed"
    assert "switch_to_take_back" in steps(engine, cid)
    assert_consistent(engine, cid)


def test_take_back_with_a_failed_retest(engine: Engine):
    cid = reported(engine)
    engine.fire(cid, "take_back", AGENT, {"engineer": "eng.zhou"})
    take_back_from_pickup(engine, cid, retest_fails=True)
    assert steps(engine, cid).count("workshop_repaired") == 2
    assert engine.get(cid).state == "completed"


def test_arrival_deadline_is_the_appointment_and_moves_with_it(
    engine: Engine, clock: VirtualClock
):
    cid = reported(engine)
    engine.fire(
        cid, "dispatch_onsite", AGENT, {"engineer": "eng.zhou", "estimated_repair_time": "1h"}
    )
    engine.fire(
        cid,
        "schedule_visit",
        ENGINEER,
        {"appointment_at": "2026-03-04T10:00:00+08:00", "appointment_place": "site"},
    )
    due = [t for t in engine.timers(cid) if t.kind == "due"]
    assert [t.due_at for t in due] == [local(2026, 3, 4, 10, 0)]
    engine.fire(
        cid, "reschedule", AGENT, {"appointment_at": "2026-03-05T14:00:00+08:00"}
    )
    due = [t for t in engine.timers(cid) if t.kind == "due"]
    assert [t.due_at for t in due] == [local(2026, 3, 5, 14, 0)]
    clock.set(local(2026, 3, 5, 13, 0))
    engine.advance(timedelta(hours=2))
    assert steps(engine, cid)[-2:] == [
        "warning:arrive_on_time",
        "deadline:arrive_on_time:breached",
    ]
    assert_consistent(engine, cid)


def test_engineer_must_agree_an_appointment_within_4_working_hours(
    engine: Engine, clock: VirtualClock
):
    clock.set(local(2026, 3, 6, 16, 0))  # Friday afternoon
    cid = reported(engine)
    engine.fire(
        cid, "dispatch_onsite", AGENT, {"engineer": "eng.zhou", "estimated_repair_time": "1h"}
    )
    (due,) = [t for t in engine.timers(cid) if t.kind == "due"]
    assert due.due_at == local(2026, 3, 9, 11, 0)  # 2 h Friday + 2 h Monday


def test_scrapped_part_starts_a_linked_parts_scrap_case(
    engine: Engine, notifier: Recorder
):
    cid = reported(engine)
    onsite_until_on_site(engine, cid)
    engine.fire(
        cid,
        "scrap_part",
        ENGINEER,
        {"part_name": "PSU", "part_model": "P-9", "quantity": 1, "reason": "burnt"},
    )
    (scrap,) = engine.query(workflow="parts_scrap")
    assert scrap.data == {
        "part_name": "PSU",
        "part_model": "P-9",
        "quantity": 1,
        "reason": "burnt",
        "repair_case_id": cid,
    }
    assert engine.history(scrap.id)[0].actor == ENGINEER.id
    # the whole scrap flow
    engine.fire(scrap.id, "confirm_unusable", WAREHOUSE, {"inspection_note": "burnt"})
    engine.fire(scrap.id, "approve", MANAGER, {})
    engine.fire(scrap.id, "dispose", WAREHOUSE, {"disposal_method": "recycling"})
    case = engine.fire(scrap.id, "update_stock", WAREHOUSE, {"stock_record": "S-1"})
    assert case.state == "scrapped"
    assert_consistent(engine, scrap.id)


def test_parts_scrap_rejected_returns_to_stock_and_approval_deadline(
    engine: Engine, clock: VirtualClock
):
    case = engine.start(
        "parts_scrap",
        WAREHOUSE,
        {"part_name": "fan", "part_model": "F1", "quantity": 3, "reason": "obsolete"},
    )
    engine.fire(case.id, "confirm_unusable", WAREHOUSE, {"inspection_note": "old"})
    engine.advance(timedelta(days=3))  # Tue 10:00 + 2 working days = Thu 10:00
    assert steps(engine, case.id)[-1] == "deadline:approval:breached"
    case = engine.fire(case.id, "reject", MANAGER, {"rejection_reason": "still sold"})
    assert case.state == "returned_to_stock"


def test_parts_scrap_usable_after_inspection(engine: Engine):
    case = engine.start(
        "parts_scrap",
        WAREHOUSE,
        {"part_name": "fan", "part_model": "F1", "quantity": 1, "reason": "noisy"},
    )
    case = engine.fire(
        case.id, "usable_after_all", WAREHOUSE, {"inspection_note": "ok"}
    )
    assert case.state == "returned_to_stock"


def test_repair_cancelled(engine: Engine):
    cid = reported(engine)
    case = engine.fire(cid, "cancel", AGENT, {"cancel_reason": "customer fixed it"})
    assert case.state == "cancelled"


@pytest.mark.parametrize("drill", [False, True])
def test_emergency_full_path_and_drill(engine: Engine, notifier: Recorder, drill: bool):
    case = engine.start(
        "emergency",
        AGENT,
        {
            "description": "platform down",
            "emergency_type": "product_failure",
            "drill": drill,
        },
    )
    told = {r for n in notifier.notices for r in n.roles}
    assert ("leadership" in told) is not drill
    engine.advance(timedelta(minutes=20))  # the 15-minute notification is missed
    engine.fire(case.id, "notify_concerned", AGENT, {"notified_parties": "all"})
    engine.fire(case.id, "form_team", MANAGER, {"team_members": "a, b"})
    engine.fire(case.id, "adopt_plan", MANAGER, {"plan": "fail over"})
    engine.fire(case.id, "report_measures", MANAGER, {"measures_taken": "failed over"})
    engine.fire(case.id, "recover", MANAGER, {"recovery_note": "back"})
    case = engine.fire(
        case.id,
        "review",
        MANAGER,
        {"review_findings": "slow paging", "procedure_changes": "page earlier"},
    )
    assert case.state == "closed"
    assert case.breaches == 1
    assert "deadline:notify_within_15m:breached" in steps(engine, case.id)
    assert_consistent(engine, case.id)


def test_quarterly_drills_start_emergency_drills_and_missed_quarters_are_recorded(
    engine: Engine,
):
    program = engine.start("drill_program", MANAGER, {"program": "2026 drills"})
    engine.advance(timedelta(days=30))
    engine.fire(
        program.id,
        "hold_drill",
        MANAGER,
        {"description": "data centre fire", "emergency_type": "other"},
    )
    (drill,) = engine.query(workflow="emergency")
    assert drill.data == {
        "description": "data centre fire",
        "emergency_type": "other",
        "drill": True,
    }
    engine.advance(timedelta(days=200))  # two quarters with no drill
    periods = [
        h.detail["outcome"] for h in engine.history(program.id) if h.kind == "period"
    ]
    assert periods == ["met", "missed"]
    assert engine.get(program.id).breaches == 1
    assert_consistent(engine, program.id)
