"""Every path of the shipped repair SOP, and the linked parts-scrap and emergency SOPs."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import (
    Actor,
    ConditionNotMetError,
    Engine,
    InvalidDataError,
    PermissionDeniedError,
    RejectedError,
    VirtualClock,
)

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
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": "eng.zhou", "estimated_repair_time": "1h"},
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
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": "eng.zhou", "estimated_repair_time": "1h"},
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
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": "eng.zhou", "estimated_repair_time": "1h"},
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


# --- rules repaired in issue 15 ------------------------------------------------

OTHER_ENGINEER = Actor("eng.ma", {"repair_engineer"})


def repaired_on_site(engine: Engine) -> str:
    cid = reported(engine)
    onsite_until_on_site(engine, cid)
    engine.fire(cid, "diagnose", ENGINEER, {"diagnosis": "PSU"})
    engine.fire(cid, "repair", ENGINEER, {"cause_and_method": "replaced the PSU"})
    return cid


def test_intake_requires_the_current_situation(engine: Engine):
    """003 item 6: 车牌号、姓名、报修项目、位置及目前情况 are asked at intake."""
    without = {k: v for k, v in INTAKE.items() if k != "situation"}
    with pytest.raises(InvalidDataError) as err:
        engine.start("repair", AGENT, without)
    assert err.value.field_errors == {"situation": "required"}
    assert engine.query(workflow="repair") == []


def test_a_failed_demonstration_goes_back_to_diagnosis(engine: Engine):
    """001 维修验收: normal operation is demonstrated; when it fails the engineer
    diagnoses and repairs again (no dead end in ``repaired``)."""
    cid = repaired_on_site(engine)
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": False})
    case = engine.fire(
        cid,
        "demonstration_failed",
        ENGINEER,
        {"works_normally": False, "demonstration_note": "still no power"},
    )
    assert case.state == "diagnosed"
    engine.fire(cid, "repair", ENGINEER, {"cause_and_method": "new fuse as well"})
    engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": True})
    case = engine.fire(cid, "sign_off", ENGINEER, {"customer_signature": "Lin"})
    assert case.state == "completed"
    assert_consistent(engine, cid)


def test_a_customer_who_refuses_to_sign_gets_the_repair_again(
    engine: Engine, notifier: Recorder
):
    """001 客户确认维修合格后签字: no signature without an accepted repair; the
    refusal sends the case back to the engineer and tells the manager."""
    cid = repaired_on_site(engine)
    engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": True})
    case = engine.fire(
        cid, "refuse_signature", ENGINEER, {"refusal_reason": "noise remains"}
    )
    assert case.state == "diagnosed"
    (told,) = [n for n in notifier.notices if n.reason == "refuse_signature"]
    assert told.persons == (ENGINEER.id,)
    assert "cs_manager" in told.roles
    # or the engineer takes it back to the workshop
    case = engine.fire(
        cid, "switch_to_take_back", ENGINEER, {"switch_reason": "needs the bench"}
    )
    assert case.state == "pickup_pending"
    assert_consistent(engine, cid)


@pytest.mark.parametrize("where", ["on_site", "diagnosed", "repaired", "signature"])
def test_the_customer_can_cancel_after_the_engineer_arrived(engine: Engine, where: str):
    """001 现场维修 has no step for a customer who declines once the engineer is
    there; cancelling must stay possible in every onsite state (default)."""
    cid = reported(engine)
    onsite_until_on_site(engine, cid)
    if where != "on_site":
        engine.fire(cid, "diagnose", ENGINEER, {"diagnosis": "PSU"})
    if where in ("repaired", "signature"):
        engine.fire(cid, "repair", ENGINEER, {"cause_and_method": "PSU"})
    if where == "signature":
        engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": True})
    case = engine.fire(cid, "cancel", AGENT, {"cancel_reason": "bought a new one"})
    assert case.state == "cancelled"
    assert engine.timers(cid) == []


def test_arrival_without_a_confirmed_fault_is_refused(engine: Engine):
    """001 维修到达: 再次确认故障情况 — the fault must be confirmed before repairing."""
    cid = reported(engine)
    engine.fire(
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": ENGINEER.id, "estimated_repair_time": "2h"},
    )
    engine.fire(
        cid,
        "schedule_visit",
        ENGINEER,
        {"appointment_at": "2026-03-04T10:00:00+08:00", "appointment_place": "site"},
    )
    engine.fire(cid, "prepare", ENGINEER, {"tools_ready": True})
    before = snapshot(engine, cid)
    with pytest.raises(ConditionNotMetError):
        engine.fire(
            cid, "arrive", ENGINEER, {"id_shown": True, "fault_confirmed": False}
        )
    assert snapshot(engine, cid) == before
    case = engine.fire(cid, "cancel", AGENT, {"cancel_reason": "no fault found"})
    assert case.state == "cancelled"


def test_the_work_order_goes_to_the_assigned_engineer_only(
    engine: Engine, notifier: Recorder
):
    """001 报修受理: 填写维修工单 … 分配给相应的维修工程师 — the assigned engineer
    is told and owns the case; another engineer may not act on it."""
    cid = reported(engine)
    assert engine.get(cid).owner == AGENT.id  # the agent owns the intake
    engine.fire(
        cid,
        "dispatch_onsite",
        AGENT,
        {"engineer": ENGINEER.id, "estimated_repair_time": "2h"},
    )
    (order,) = [n for n in notifier.notices if n.reason == "dispatch_onsite"]
    assert order.persons == (ENGINEER.id,)
    assert order.roles == ()
    assert engine.get(cid).owner == ENGINEER.id
    before = snapshot(engine, cid)
    with pytest.raises(PermissionDeniedError):
        engine.fire(
            cid,
            "schedule_visit",
            OTHER_ENGINEER,
            {"appointment_at": "2026-03-04T10:00:00+08:00", "appointment_place": "x"},
        )
    assert snapshot(engine, cid) == before
    assert "schedule_visit" not in engine.allowed_events(cid, OTHER_ENGINEER)
    assert "schedule_visit" in engine.allowed_events(cid, ENGINEER)


def test_the_take_back_path_is_watched_at_every_step(
    engine: Engine, clock: VirtualClock
):
    """001 带回维修: pick-up, workshop repair, the second test and the return each
    have a deadline (all defaults: 2, 5, 1 and 2 working days)."""
    cid = reported(engine)
    engine.fire(cid, "take_back", AGENT, {"engineer": ENGINEER.id})
    assert engine.get(cid).owner == ENGINEER.id
    # Tue 10:00 + 2 working days = Thu 10:00
    engine.advance(timedelta(days=2, minutes=1))
    assert "deadline:pick_up_product:breached" in steps(engine, cid)
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
    assert "workshop_repair" in engine.get(cid).armed
    engine.advance(timedelta(days=8))  # 5 working days pass
    assert "deadline:workshop_repair:breached" in steps(engine, cid)
    engine.fire(cid, "workshop_repaired", WORKSHOP, {"workshop_report": "new PSU"})
    assert "retest_product" in engine.get(cid).armed
    engine.fire(cid, "retest_passed", ENGINEER, {"test_passed": True})
    assert "return_to_customer" in engine.get(cid).armed
    engine.fire(
        cid,
        "return_product",
        ENGINEER,
        {"return_signed": True, "list_taken_back": True},
    )
    assert engine.get(cid).breaches == 2
    assert_consistent(engine, cid)


def test_the_return_visit_is_3_to_5_days_later_on_a_working_day(
    engine: Engine, clock: VirtualClock
):
    """003: 服务部3-5天后电访 — not before day 3; day 5 falls on Sunday, so the
    visit is due at the start of Monday's working time."""
    cid = repaired_on_site(engine)
    engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": True})
    engine.fire(cid, "sign_off", ENGINEER, {"customer_signature": "Lin"})  # Tue 10:00
    (due,) = [
        t
        for t in engine.timers(cid)
        if t.deadline == "return_visit" and t.kind == "due"
    ]
    assert due.due_at == local(2026, 3, 9, 9, 0)  # Sun 8 Mar 10:00 -> Mon 09:00
    engine.advance(timedelta(days=2))
    before = snapshot(engine, cid)
    with pytest.raises(RejectedError):
        engine.fire(cid, "return_visit", AGENT, {"visit_note": "too early"})
    assert snapshot(engine, cid) == before
    engine.fire(cid, "visit_attempt_failed", AGENT, {"visit_attempt_note": "no answer"})
    engine.advance(timedelta(days=1, hours=1))  # Fri 11:00: the window is open
    case = engine.fire(cid, "return_visit", AGENT, {"visit_note": "works fine"})
    assert case.state == "closed"
    assert case.breaches == 0


def test_every_open_repair_state_has_a_deadline(engine: Engine, clock: VirtualClock):
    """001 报修受理 (及时) and 000 §5.1: the path is decided within 2 working
    hours and a guided self-repair is followed up within a working day (defaults)."""
    cid = reported(engine)
    engine.advance(timedelta(hours=2, minutes=1))
    assert "deadline:decide_path:breached" in steps(engine, cid)
    engine.fire(cid, "guide", AGENT, {"guidance_note": "reset the breaker"})
    assert "self_repair_result" in engine.get(cid).armed
    engine.advance(timedelta(days=1))
    assert "deadline:self_repair_result:breached" in steps(engine, cid)


def test_the_onsite_visit_and_the_signature_are_watched(engine: Engine):
    """001 现场维修 / 维修验收: defaults — the onsite repair is finished within 1
    working day of arriving, the work order signed or refused within 1 more."""
    cid = reported(engine)
    onsite_until_on_site(engine, cid)
    assert "finish_onsite" in engine.get(cid).armed
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:finish_onsite:breached" in steps(engine, cid)
    engine.fire(cid, "diagnose", ENGINEER, {"diagnosis": "PSU"})
    engine.fire(cid, "repair", ENGINEER, {"cause_and_method": "replaced the PSU"})
    engine.fire(cid, "demonstrate", ENGINEER, {"works_normally": True})
    assert "sign_or_refuse" in engine.get(cid).armed
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:sign_or_refuse:breached" in steps(engine, cid)
