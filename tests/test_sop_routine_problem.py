"""The routine problem SOP (workflows/routine_problem.yaml), rule by rule (seed 004 §2.3)."""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest

from cswork import (
    Actor,
    ConditionNotMetError,
    Engine,
    PermissionDeniedError,
    VirtualClock,
)

from .conftest import AGENT, HEAD, LEAD, MANAGER, WORKFLOWS, Recorder, local
from .helpers import assert_consistent, steps

STAFF = Actor("tech.qian", {"dept_staff"}, units={"technical"})
BUSINESS_HEAD = Actor("head.liu", {"dept_head"}, units={"business"})
OTHER_AGENT = Actor("agent.ma", {"cs_agent"})

RECORD = {
    "organisation": "ACME",
    "contact_person": "Mr Wu",
    "phone": "021-5555",
    "request": "install the new release",
}


def accepted(engine: Engine, **data: object) -> str:
    case = engine.start(
        "routine_problem",
        AGENT,
        {"customer_id": "C-1", "channel": "phone", "summary": "upgrade", **data},
    )
    return case.id


def routed(engine: Engine, severity: str = "general", kind: str = "upgrade") -> str:
    cid = accepted(engine)
    engine.fire(cid, "route", AGENT, {**RECORD, "kind": kind, "severity": severity})
    return cid


def planned(engine: Engine, severity: str = "general") -> str:
    cid = routed(engine, severity)
    engine.fire(
        cid,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-05T18:00:00+08:00",
            "measures": "remote upgrade",
            "handler": "tech.qian",
        },
    )
    return cid


def breached(engine: Engine, cid: str) -> list[str]:
    return [s for s in steps(engine, cid) if s.endswith(":breached")]


@pytest.mark.parametrize(
    ("kind", "department"),
    [
        ("product_question", "business"),
        ("training", "business"),
        ("platform", "business"),
        ("installation", "technical"),
        ("maintenance", "technical"),
        ("upgrade", "technical"),
        ("integration", "technical"),
        ("usage_question", "technical"),
    ],
)
def test_routed_by_kind_to_business_or_technical(
    engine: Engine, notifier: Recorder, kind: str, department: str
):
    """004 §2.3.2 产品咨询 → 业务部门; 软件产品、软件项目 → 技术部门."""
    cid = routed(engine, kind=kind)
    case = engine.get(cid)
    assert case.data["department"] == department
    assert case.unit == department
    (notice,) = notifier.notices
    assert (notice.unit, notice.unit_roles) == (department, ("dept_head",))


def test_routing_needs_the_problem_record(engine: Engine):
    """004 §2.2.1 客户问题记录表: contact person, request, a way to reach the customer."""
    cid = accepted(engine)
    no_way = {k: v for k, v in RECORD.items() if k != "phone"}
    with pytest.raises(ConditionNotMetError):
        engine.fire(
            cid, "route", AGENT, {**no_way, "kind": "upgrade", "severity": "general"}
        )
    assert engine.get(cid).state == "received"


def test_taker_solves_directly_and_closes(engine: Engine):
    """004 §2.3.1 受理人员根据客户问题的具体情况自行解决."""
    cid = accepted(engine, kind="product_question")
    engine.fire(
        cid, "solve_directly", AGENT, {"resolution": "explained the price list"}
    )
    case = engine.fire(cid, "close", AGENT, {"result_note": "customer content"})
    assert case.state == "closed"
    assert case.breaches == 0
    assert_consistent(engine, cid)


def test_taker_follows_the_case_until_closed(engine: Engine):
    """004 §2.3.1 负责跟踪客户问题的办理情况: the taker owns it; only they close it."""
    cid = planned(engine)
    assert engine.get(cid).owner == "agent.li"
    engine.fire(cid, "contact_customer", STAFF, {"contact_note": "remote session Thu"})
    engine.fire(cid, "resolve", STAFF, {"resolution": "upgraded"})
    with pytest.raises(PermissionDeniedError):
        engine.fire(cid, "close", OTHER_AGENT, {"result_note": "done"})
    engine.fire(cid, "reassign", LEAD, {"new_taker": "agent.ma"})
    case = engine.fire(cid, "close", OTHER_AGENT, {"result_note": "done"})
    assert case.state == "closed"
    assert_consistent(engine, cid)


def test_only_the_routed_departments_head_plans(engine: Engine):
    """004 §2.3.2 各部门负责人负责组织本部门人员: the head of the routed unit only."""
    cid = routed(engine, kind="upgrade")  # technical
    plan = {
        "expected_resolution_at": "2026-03-05T18:00:00+08:00",
        "measures": "m",
        "handler": "tech.qian",
    }
    with pytest.raises(PermissionDeniedError):
        engine.fire(cid, "plan", BUSINESS_HEAD, plan)
    assert engine.fire(cid, "plan", HEAD, plan).state == "in_progress"


def test_expected_resolution_time_is_watched(engine: Engine, clock: VirtualClock):
    """004 §2.3.2 预计解决问题的时间, supervised by the manager (004 §2.5)."""
    cid = planned(engine)
    engine.fire(cid, "contact_customer", STAFF, {"contact_note": "agreed"})
    clock.set(local(2026, 3, 5, 18, 1))
    engine.run_due()
    assert "deadline:resolution_promised:breached" in breached(engine, cid)


def test_general_contact_within_24h_from_acceptance(
    engine: Engine, clock: VirtualClock
):
    """004 §2.3.2 1) 在受理客户问题的24小时内与客户进行联系 — from acceptance, not routing."""
    cid = accepted(engine)  # Tuesday 10:00
    clock.set(local(2026, 3, 3, 17, 0))
    engine.fire(
        cid, "route", AGENT, {**RECORD, "kind": "upgrade", "severity": "general"}
    )
    assert engine.get(cid).armed["first_contact_general"] == local(2026, 3, 4, 10, 0)
    clock.set(local(2026, 3, 4, 10, 1))
    engine.run_due()
    assert "deadline:first_contact_general:breached" in breached(engine, cid)


def test_important_contact_within_8h_reported_and_daily(
    engine: Engine, notifier: Recorder
):
    """004 §2.3.2 2) 8个小时内…联系,并上报部门主管;每天至少与客户联系1-2次."""
    cid = routed(engine, "important")
    assert [n.message for n in notifier.notices][1].startswith("Routine problem 紧迫")
    assert engine.get(cid).armed["first_contact_important"] == local(2026, 3, 3, 18, 0)
    engine.fire(cid, "contact_customer", HEAD, {"contact_note": "plan agreed"})
    engine.advance(timedelta(days=2, hours=1))  # the second working day: no contact
    assert "first_contact_important" not in engine.get(cid).armed  # met
    assert steps(engine, cid)[-2:] == [
        "period:daily_contact_important:met",
        "period:daily_contact_important:missed",
    ]


def test_urgent_contact_within_4h_reported_at_any_hour(
    engine: Engine, clock: VirtualClock, notifier: Recorder
):
    """004 §2.3.2 3) 立即与客户联系,最迟不得超过4小时,并上报客户服务部经理以及公司主管领导."""
    clock.set(local(2026, 3, 3, 22, 0))
    cid = routed(engine, "urgent")
    urgent = [n for n in notifier.notices if "leadership" in n.roles]
    assert urgent
    assert urgent[0].held_until is None  # delivered at 22:00, not held
    assert engine.get(cid).armed["first_contact_urgent"] == local(2026, 3, 4, 2, 0)
    engine.advance(timedelta(hours=4, minutes=1))
    assert "deadline:first_contact_urgent:breached" in breached(engine, cid)


def test_urgent_keeps_in_touch_every_two_working_hours(engine: Engine):
    """004 §2.3.2 3) 随时要与客户保持联系 (default: every 2 working hours)."""
    cid = planned(engine, "urgent")
    engine.fire(cid, "report_progress", STAFF, {"progress_note": "on it"})
    engine.advance(timedelta(hours=1, minutes=59))  # 10:00 → 11:59: first period
    assert "period:keep_contact_urgent:missed" not in steps(engine, cid)
    engine.advance(timedelta(hours=4))  # 15:59: the second period had no contact
    periods = [s for s in steps(engine, cid) if s.startswith("period:keep_contact")]
    assert periods == [
        "period:keep_contact_urgent:met",
        "period:keep_contact_urgent:missed",
    ]


def _with_conversion(tmp_path: Path) -> Path:
    d = tmp_path / "wf"
    d.mkdir()
    shutil.copytree(WORKFLOWS / "calendars", d / "calendars")
    shutil.copy(WORKFLOWS / "routine_problem.yaml", d)
    (d / "call.yaml").write_text(CALL)
    return d


CALL = """\
workflow: call
version: 1
title: A call that turns out to be a routine problem
roles: {cs_agent: takes calls}
fields:
  customer_id: {type: string}
  summary: {type: string}
  routine_case: {type: string}
states:
  open: {initial: true, unbounded: "test"}
  converted: {final: true, outcome: transferred}
start: {roles: [cs_agent], requires: [customer_id, summary]}
transitions:
  - event: convert
    from: open
    to: converted
    roles: [cs_agent]
    actions:
      - start_case: routine_problem
        copy: [customer_id, summary]
        link: source_case
        back_link: routine_case
        keep_start: true
"""


def test_converted_case_counts_contact_from_the_first_call(tmp_path: Path):
    """004 §2.3.2 受理客户问题…内: a case converted with keep_start counts from the call."""
    clock = VirtualClock(local(2026, 3, 3, 10, 0))
    engine = Engine.from_directory(
        _with_conversion(tmp_path), clock=clock, notifier=Recorder()
    )
    call = engine.start("call", AGENT, {"customer_id": "C-1", "summary": "upgrade"})
    clock.set(local(2026, 3, 3, 15, 0))
    engine.fire(call.id, "convert", AGENT)
    rid = str(engine.get(call.id).data["routine_case"])
    assert engine.get(rid).data["source_case"] == call.id
    engine.fire(
        rid, "route", AGENT, {**RECORD, "kind": "upgrade", "severity": "important"}
    )
    # 8 h from the call at 10:00, not from the conversion at 15:00
    assert engine.get(rid).armed["first_contact_important"] == local(2026, 3, 3, 18, 0)
    assert MANAGER.roles == {"cs_manager"}


def test_unhandled_problem_is_chased(engine: Engine, notifier: Recorder):
    """004 §2.3.1 递交相关人员、部门 (default: solved or handed over in 2 working hours)."""
    cid = accepted(engine)  # Tuesday 10:00
    engine.advance(timedelta(hours=3, minutes=31))  # due 12:00; now 13:31
    assert breached(engine, cid) == ["deadline:hand_over:breached"]
    assert any(n.persons == ("agent.li",) for n in notifier.notices)
