"""Every path of the shipped complaint SOP."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import (
    ConditionNotMetError,
    Engine,
    IllegalEventError,
    InvalidDataError,
    PermissionDeniedError,
    VirtualClock,
)

from .conftest import AGENT, HEAD, LEAD, MANAGER, Recorder, local
from .helpers import RECORD, assert_consistent, routed_complaint, snapshot, steps

FIXED = {"resolution": "fixed", "evidence": "log files", "responsible_person": "zhao"}
PLAN = {
    "expected_resolution_at": "2026-03-05T18:00:00+08:00",
    "measures": "swap the unit",
    "handler": "head.zhao",
}


def routed(engine: Engine, severity: str = "general", type_: str = "product") -> str:
    return routed_complaint(engine, severity, type_)


def resolve_and_inform(engine: Engine, cid: str) -> None:
    engine.fire(cid, "resolve", HEAD, FIXED)
    engine.fire(cid, "inform_result", LEAD, {"result_note": "told"})


@pytest.mark.parametrize(
    ("type_", "department"),
    [
        ("product", "technical"),
        ("network_line", "platform"),
        ("service_quality", "concerned_department"),
        ("sales_service", "business"),
    ],
)
def test_routing_follows_the_type_table(engine: Engine, type_: str, department: str):
    cid = routed(engine, type_=type_)
    assert engine.get(cid).data["department"] == department


def test_happy_path_to_closed(engine: Engine, clock: VirtualClock):
    cid = routed(engine)
    engine.fire(cid, "contact_customer", LEAD, {"contact_note": "called"})
    engine.fire(cid, "propose_solution", HEAD, {"proposed_solution": "swap"})
    engine.fire(
        cid,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "swap the unit",
            "handler": "head.zhao",
        },
    )
    resolve_and_inform(engine, cid)
    engine.fire(cid, "accept", LEAD)
    engine.advance(timedelta(days=1))
    engine.fire(cid, "return_visit", AGENT, {"visit_note": "all good"})
    case = engine.get(cid)
    assert case.state == "closed"
    assert case.closed
    assert case.breaches == 0
    assert engine.timers(cid) == []
    assert steps(engine, cid) == [
        "start",
        "record",
        "classify",
        "contact_customer",
        "propose_solution",
        "plan",
        "resolve",
        "inform_result",
        "accept",
        "return_visit",
    ]
    assert engine.get(cid).data["expected_resolution_at"] == "2026-03-05T10:00:00+00:00"
    assert_consistent(engine, cid)


def test_third_reopening_escalates_to_the_manager(engine: Engine, notifier: Recorder):
    cid = routed(engine)
    engine.fire(
        cid,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "m",
            "handler": "head.zhao",
        },
    )
    for n in (1, 2):
        resolve_and_inform(engine, cid)
        case = engine.fire(cid, "reopen", LEAD, {"reopen_reason": f"still broken {n}"})
        assert case.state == "investigating"
        assert case.counters["reopen_count"] == n
    resolve_and_inform(engine, cid)
    notifier.notices.clear()
    case = engine.fire(cid, "reopen", LEAD, {"reopen_reason": "third time"})
    assert case.state == "escalated"
    assert case.counters["reopen_count"] == 3
    assert any("cs_manager" in n.roles for n in notifier.notices)
    # The manager resolves; the loop continues from there.
    engine.fire(
        cid,
        "resolve",
        MANAGER,
        {
            "resolution": "new unit",
            "evidence": "photos",
            "responsible_person": "mgr.sun",
        },
    )
    engine.fire(cid, "inform_result", LEAD, {"result_note": "told"})
    engine.fire(cid, "accept", LEAD)
    engine.fire(cid, "return_visit", LEAD, {"visit_note": "fine"})
    assert engine.get(cid).state == "closed"
    assert_consistent(engine, cid)


def test_reopen_from_the_return_visit(engine: Engine):
    cid = routed(engine)
    engine.fire(
        cid,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "m",
            "handler": "head.zhao",
        },
    )
    resolve_and_inform(engine, cid)
    engine.fire(cid, "accept", LEAD)
    case = engine.fire(cid, "reopen", LEAD, {"reopen_reason": "broke again"})
    assert case.state == "investigating"
    assert_consistent(engine, cid)


def test_withdraw_from_any_open_state(engine: Engine):
    cid = routed(engine)
    case = engine.fire(cid, "withdraw", LEAD, {"withdraw_reason": "customer cancelled"})
    assert case.state == "withdrawn"
    assert case.closed
    assert engine.timers(cid) == []  # every deadline cancelled on the way out
    with pytest.raises(IllegalEventError) as err:
        engine.fire(cid, "withdraw", LEAD, {"withdraw_reason": "again"})
    assert err.value.allowed == ()


def test_urgent_is_reported_at_once_and_escalates_when_first_contact_is_missed(
    engine: Engine, clock: VirtualClock, notifier: Recorder
):
    clock.set(local(2026, 3, 3, 15, 40))
    case = engine.start(
        "complaint",
        AGENT,
        {"customer_id": "C-9", "channel": "email", "summary": "system down"},
    )
    engine.fire(case.id, "record", LEAD, RECORD)
    clock.set(local(2026, 3, 3, 16, 0))
    engine.fire(
        case.id, "classify", LEAD, {"type": "network_line", "severity": "urgent"}
    )
    told = [set(n.roles) for n in notifier.notices]
    assert {"cs_manager", "leadership"} in told
    (due,) = [
        t
        for t in engine.timers(case.id)
        if t.kind == "due" and t.deadline == "first_contact_urgent"
    ]
    # 4 h wall clock from acceptance (受理, 004 §2.4.2), not from classification
    assert due.due_at == local(2026, 3, 3, 19, 40)
    engine.advance(timedelta(hours=4, minutes=1))
    case = engine.get(case.id)
    assert case.state == "escalated"
    assert case.breaches == 1
    assert steps(engine, case.id)[-3:] == [
        "warning:first_contact_urgent",
        "deadline:first_contact_urgent:breached",
        "escalate",
    ]
    assert_consistent(engine, case.id)


def test_urgent_result_must_reach_the_customer_within_an_hour(
    engine: Engine, clock: VirtualClock
):
    cid = routed(engine, severity="urgent")
    engine.fire(cid, "contact_customer", LEAD, {"contact_note": "on it"})
    engine.fire(
        cid,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-03T18:00:00+08:00",
            "measures": "m",
            "handler": "head.zhao",
        },
    )
    engine.fire(cid, "resolve", HEAD, FIXED)
    engine.advance(timedelta(minutes=61))
    assert steps(engine, cid)[-1] == "deadline:result_urgent:breached"
    assert engine.get(cid).breaches == 1


def test_important_complaint_records_daily_contact_per_working_day(
    engine: Engine, clock: VirtualClock
):
    clock.set(local(2026, 3, 9, 10, 0))  # Monday
    cid = routed(engine, severity="important")
    engine.advance(timedelta(hours=1))
    engine.fire(cid, "contact_customer", LEAD, {"contact_note": "day 1"})
    engine.advance(timedelta(days=1))
    # nobody calls on day 2
    engine.advance(timedelta(days=1))
    engine.fire(cid, "contact_customer", LEAD, {"contact_note": "day 3"})
    engine.advance(timedelta(hours=23))
    periods = [
        (h.detail["period"], h.detail["outcome"])
        for h in engine.history(cid)
        if h.kind == "period"
    ]
    assert periods == [(1, "met"), (2, "missed"), (3, "met")]
    assert_consistent(engine, cid)


def test_refused_steps_change_nothing(engine: Engine):
    cid = routed(engine)
    before = snapshot(engine, cid)
    with pytest.raises(IllegalEventError) as illegal:
        engine.fire(cid, "accept", LEAD)
    assert illegal.value.allowed == (
        "contact_customer",
        "escalate",
        "propose_solution",
        "report_progress",
        "withdraw",
    )
    with pytest.raises(PermissionDeniedError) as denied:
        engine.fire(
            cid,
            "plan",
            AGENT,
            {
                "expected_resolution_at": "2026-03-05T18:00:00Z",
                "measures": "m",
                "handler": "head.zhao",
            },
        )
    assert denied.value.required_roles == ("dept_head",)
    with pytest.raises(InvalidDataError) as invalid:
        engine.fire(cid, "plan", HEAD, {"measures": "m", "handler": "head.zhao"})
    assert invalid.value.field_errors == {"expected_resolution_at": "required"}
    with pytest.raises(InvalidDataError):
        engine.fire(
            cid,
            "plan",
            HEAD,
            {
                "expected_resolution_at": "2026-03-05 18:00",
                "measures": "m",
                "handler": "head.zhao",
            },
        )  # naive
    assert snapshot(engine, cid) == before


def test_recording_needs_an_apology_and_a_way_to_reach_the_customer(engine: Engine):
    case = engine.start(
        "complaint", AGENT, {"customer_id": "C-1", "channel": "letter", "summary": "s"}
    )
    before = snapshot(engine, case.id)
    with pytest.raises(ConditionNotMetError) as err:
        engine.fire(case.id, "record", LEAD, {**RECORD, "apologised": False})
    assert "apologised == true" in err.value.condition
    no_contact = {k: v for k, v in RECORD.items() if k != "phone"}
    with pytest.raises(ConditionNotMetError):
        engine.fire(case.id, "record", LEAD, no_contact)
    assert snapshot(engine, case.id) == before


# --- rules repaired in issue 15 ------------------------------------------------


def investigating(engine: Engine, severity: str = "general") -> str:
    cid = routed(engine, severity)
    engine.fire(cid, "contact_customer", LEAD, {"contact_note": "called"})
    engine.fire(cid, "plan", HEAD, PLAN)
    return cid


def test_the_record_needs_the_current_situation(engine: Engine):
    """目前情况 is part of the customer problem record (003 item 6; 004 §2.2)."""
    case = engine.start(
        "complaint", AGENT, {"customer_id": "C-1", "channel": "phone", "summary": "x"}
    )
    without = {k: v for k, v in RECORD.items() if k != "current_situation"}
    before = snapshot(engine, case.id)
    with pytest.raises(InvalidDataError) as err:
        engine.fire(case.id, "record", LEAD, without)
    assert err.value.field_errors == {"current_situation": "required"}
    assert snapshot(engine, case.id) == before


def test_resolving_needs_evidence_and_the_responsible_person(engine: Engine):
    """001 投诉调查/投诉处理: 收集相关证据和资料 and 明确责任人 before the complaint
    counts as resolved; they may be recorded during the investigation."""
    cid = investigating(engine)
    before = snapshot(engine, cid)
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "resolve", HEAD, {"resolution": "fixed"})
    assert snapshot(engine, cid) == before
    engine.fire(cid, "record_findings", HEAD, {"evidence": "call recordings"})
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "resolve", HEAD, {"resolution": "fixed"})
    engine.fire(cid, "record_findings", HEAD, {"responsible_person": "wang.wu"})
    case = engine.fire(cid, "resolve", HEAD, {"resolution": "fixed"})
    assert case.state == "resolved"
    assert case.data["evidence"] == "call recordings"
    assert case.data["responsible_person"] == "wang.wu"
    assert_consistent(engine, cid)


def test_the_expected_resolution_time_is_watched(
    engine: Engine, clock: VirtualClock, notifier: Recorder
):
    """004 §2.5: the manager supervises against the time the department head
    recorded (预计解决问题的时间); restating it moves the deadline."""
    cid = investigating(engine)
    (due,) = [
        t
        for t in engine.timers(cid)
        if t.deadline == "resolution_promised" and t.kind == "due"
    ]
    assert due.due_at == local(2026, 3, 5, 18, 0)
    engine.fire(
        cid, "replan", HEAD, {"expected_resolution_at": "2026-03-06T12:00:00+08:00"}
    )
    (due,) = [
        t
        for t in engine.timers(cid)
        if t.deadline == "resolution_promised" and t.kind == "due"
    ]
    assert due.due_at == local(2026, 3, 6, 12, 0)
    clock.set(local(2026, 3, 6, 11, 0))
    engine.advance(timedelta(hours=2))
    assert "deadline:resolution_promised:breached" in steps(engine, cid)
    (late,) = [n for n in notifier.notices if n.reason == "resolution_promised"
               and "not resolved" in n.message]  # fmt: skip
    assert "cs_manager" in late.roles
    assert late.unit == "technical"
    assert late.unit_roles == ("dept_head",)


def test_a_reopened_complaint_is_watched(engine: Engine, clock: VirtualClock):
    """000 §3.2: handled again until the customer is satisfied — the reopened
    complaint has its own deadline (default 2 working days)."""
    cid = investigating(engine)
    resolve_and_inform(engine, cid)
    engine.fire(cid, "reopen", LEAD, {"reopen_reason": "still broken"})
    armed = engine.get(cid).armed
    assert "reopened_resolution" in armed
    assert "resolution_promised" not in armed  # the old promise is not re-armed
    engine.advance(timedelta(days=2, minutes=1))  # Tue 10:00 -> Thu 10:01
    assert "deadline:reopened_resolution:breached" in steps(engine, cid)


@pytest.mark.parametrize("severity", ["general", "important"])
def test_a_resolved_complaint_must_be_told_within_a_working_day(
    engine: Engine, severity: str
):
    """004 §2.4.1: the lead tells the customer the result personally (亲自告知);
    default for general and important: within 1 working day."""
    cid = investigating(engine, severity)
    engine.fire(cid, "resolve", HEAD, FIXED)
    assert "result_general_important" in engine.get(cid).armed
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:result_general_important:breached" in steps(engine, cid)


def test_a_very_urgent_complaint_needs_contact_every_4_hours(
    engine: Engine, clock: VirtualClock, notifier: Recorder
):
    """004 §2.4.2 3): 随时要与客户保持联系 — while open, contact at least every
    4 hours (default), day and night; the reminder goes out at any hour."""
    cid = routed(engine, "urgent")
    engine.fire(cid, "contact_customer", LEAD, {"contact_note": "on it"})
    engine.fire(cid, "plan", HEAD, PLAN)  # Tue 10:00
    engine.advance(timedelta(hours=3))
    engine.fire(cid, "report_progress", HEAD, {"progress_note": "swapping"})
    engine.advance(timedelta(hours=4))  # 13:00-17:00: contact made
    engine.fire(cid, "contact_customer", HEAD, {"contact_note": "almost"})
    engine.advance(timedelta(hours=10))  # nobody calls at night
    periods = [
        h.detail["outcome"]
        for h in engine.history(cid)
        if h.kind == "period" and h.event == "keep_contact_urgent"
    ]
    assert periods[:2] == ["met", "met"]
    assert "missed" in periods
    night = [n for n in notifier.notices if n.reason == "keep_contact_urgent"]
    assert night
    assert all(n.held_until is None for n in night)


def test_no_answer_on_satisfaction_gets_a_reminder(engine: Engine):
    """000 §3.2: the customer is asked whether they are satisfied; without an
    answer the lead is reminded after 2 working days (default) and calls again."""
    cid = investigating(engine)
    resolve_and_inform(engine, cid)
    assert engine.get(cid).state == "awaiting_feedback"
    engine.advance(timedelta(days=2, minutes=1))
    assert "deadline:feedback_reminder:breached" in steps(engine, cid)
    engine.fire(cid, "feedback_reminder_call", LEAD, {"contact_note": "left a message"})
    case = engine.fire(cid, "accept", LEAD)
    assert case.state == "follow_up"


def test_record_route_and_plan_are_watched(engine: Engine, clock: VirtualClock):
    """004 §2.4.1/§2.4.2: the lead records and routes, the head plans — defaults:
    2 working hours and 1 working day."""
    case = engine.start(
        "complaint", AGENT, {"customer_id": "C-1", "channel": "email", "summary": "x"}
    )
    engine.advance(timedelta(hours=3, minutes=1))  # 10:00 + 2 working h = 13:00
    assert "deadline:record_and_route:breached" in steps(engine, case.id)
    engine.fire(case.id, "record", LEAD, RECORD)
    engine.fire(case.id, "classify", LEAD, {"type": "product", "severity": "general"})
    assert "plan_by_department" in engine.get(case.id).armed
    engine.advance(timedelta(days=1))
    assert "deadline:plan_by_department:breached" in steps(engine, case.id)
    assert engine.get(case.id).owner is None  # the department's queue
    engine.fire(case.id, "plan", HEAD, PLAN)
    assert engine.get(case.id).owner == "head.zhao"


@pytest.mark.parametrize("channel", ["phone", "email", "chat", "letter"])
def test_complaints_come_by_the_channels_of_the_source(engine: Engine, channel: str):
    """000 §3.1: 电话、邮件、在线、信函; anything else is refused."""
    case = engine.start(
        "complaint", AGENT, {"customer_id": "C-1", "channel": channel, "summary": "x"}
    )
    assert case.data["channel"] == channel
    with pytest.raises(InvalidDataError):
        engine.start(
            "complaint", AGENT, {"customer_id": "C-1", "channel": "fax", "summary": "x"}
        )


@pytest.mark.parametrize(
    ("severity", "hours", "deadline"),
    [
        ("general", 24, "first_contact_general"),
        ("important", 8, "first_contact_important"),
    ],
)
def test_first_contact_is_due_24h_or_8h_after_acceptance(
    engine: Engine, clock: VirtualClock, severity: str, hours: int, deadline: str
):
    """004 §2.4.2 1) 2): 受理客户问题的24小时内 / 8个小时内 与客户进行联系 — wall
    clock, counted from acceptance (the start), not from classification."""
    case = engine.start(
        "complaint", AGENT, {"customer_id": "C-1", "channel": "phone", "summary": "x"}
    )
    clock.set(local(2026, 3, 3, 11, 0))
    engine.fire(case.id, "record", LEAD, RECORD)
    engine.fire(case.id, "classify", LEAD, {"type": "product", "severity": severity})
    (due,) = [
        t for t in engine.timers(case.id) if t.deadline == deadline and t.kind == "due"
    ]
    assert due.due_at == local(2026, 3, 3, 10, 0) + timedelta(hours=hours)
    engine.advance(timedelta(hours=hours))
    assert f"deadline:{deadline}:breached" in steps(engine, case.id)


def test_an_important_complaint_is_reported_to_the_department_supervisor(
    engine: Engine, notifier: Recorder
):
    """004 §2.4.2 2): 紧迫 — 上报部门主管."""
    routed(engine, "important")
    told = [
        n for n in notifier.notices if n.reason == "classify" and "紧迫" in n.message
    ]
    assert [(n.unit, n.unit_roles) for n in told] == [("technical", ("dept_head",))]


def test_general_feedback_in_1_and_important_progress_in_2_working_days(
    engine: Engine,
):
    """000 §3.1: 一般 — initial feedback with a proposed solution within 1 working
    day; 紧迫 — investigation and progress feedback within 2 working days."""
    general = routed(engine, "general")
    important = routed(engine, "important")
    engine.fire(important, "contact_customer", LEAD, {"contact_note": "on it"})
    engine.advance(timedelta(days=1, minutes=1))  # Wed 10:01
    assert "deadline:initial_feedback_general:breached" in steps(engine, general)
    engine.fire(important, "contact_customer", LEAD, {"contact_note": "day 2"})
    assert "progress_important" in engine.get(important).armed
    engine.advance(timedelta(days=1))  # Thu 10:01
    assert "deadline:progress_important:breached" in steps(engine, important)


def test_the_return_visit_follows_within_3_working_days(engine: Engine):
    """001 投诉跟踪与回访, 004 §1.3: a return visit after a satisfied customer
    (default: within 3 working days)."""
    cid = investigating(engine)
    resolve_and_inform(engine, cid)
    engine.fire(cid, "accept", LEAD)
    assert "return_visit" in engine.get(cid).armed
    engine.advance(timedelta(days=3, minutes=1))
    assert "deadline:return_visit:breached" in steps(engine, cid)
    case = engine.fire(cid, "return_visit", LEAD, {"visit_note": "fix held"})
    assert case.state == "closed"
