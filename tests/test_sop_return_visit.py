"""The return visit SOP (workflows/return_visit.yaml), rule by rule (seeds 003, 001, 004 §1.3)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from cswork import Actor, ConditionNotMetError, Engine, InvalidDataError, VirtualClock

from .conftest import AGENT, ENGINEER, HEAD, LEAD, Recorder, local
from .helpers import assert_consistent, steps


def visit(engine: Engine, kind: str, actor: Actor = AGENT, **data: object) -> str:
    case = engine.start(
        "return_visit", actor, {"customer_id": "C-1", "kind": kind, **data}
    )
    return case.id


def armed(engine: Engine, cid: str, deadline: str) -> datetime:
    return engine.get(cid).armed[deadline]


def test_sales_call_24h_before_the_delivery(engine: Engine):
    """003 三 1 销售部24小时售前电访: due 24 h before the delivery."""
    cid = visit(engine, "sales_pre_delivery", delivery_at="2026-03-10T10:00:00+08:00")
    assert armed(engine, cid, "pre_delivery") == local(2026, 3, 9, 10, 0)


def test_sales_call_7_days_after_delivery_on_a_working_day(engine: Engine):
    """003 三 1 交车7天时售后电访: 7 days after; a Sunday moves to Monday morning."""
    cid = visit(engine, "sales_7d", delivery_at="2026-03-01T10:00:00+08:00")  # Sunday
    assert armed(engine, cid, "seven_days_after_delivery") == local(2026, 3, 9, 9, 0)


def test_sales_call_a_month_after_delivery(engine: Engine):
    """003 三 1 交车后一个月电访: a calendar month; Qingming (4–6 April) moves it to the 7th."""
    cid = visit(engine, "sales_1mo", delivery_at="2026-03-05T10:00:00+08:00")
    assert armed(engine, cid, "one_month_after_delivery") == local(2026, 4, 7, 9, 0)


def test_sales_visits_without_the_delivery_time_are_chased(engine: Engine):
    """003 三 1: sales visits count from the delivery (交车); without it the lead is told."""
    cid = visit(engine, "sales_7d")
    assert set(engine.get(cid).armed) == {"date_missing", "claim_visit"}
    engine.advance(timedelta(hours=1, minutes=1))
    assert "deadline:date_missing:breached" in steps(engine, cid)
    key = visit(engine, "key_user")  # a key-user visit needs its planned date
    assert "date_missing" in engine.get(key).armed


def test_service_visit_window_3_to_5_working_days(engine: Engine, clock: VirtualClock):
    """003 三 1 服务部3-5天后电访: not before 3 working days, due after 5."""
    cid = visit(engine, "service", ENGINEER, source_case="R-1")  # Tuesday 10:00
    assert armed(engine, cid, "service_window") == local(2026, 3, 10, 10, 0)
    engine.fire(cid, "claim", AGENT)
    done = {"visit_note": "works", "satisfaction": 5}
    clock.set(local(2026, 3, 5, 16, 0))  # 2¾ working days: too early
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "complete", AGENT, done)
    clock.set(local(2026, 3, 6, 10, 0))  # Friday 10:00: the window opens
    case = engine.fire(cid, "complete", AGENT, done)
    assert case.state == "visited"
    assert case.breaches == 0


def test_every_complaint_customer_is_visited(engine: Engine, notifier: Recorder):
    """001 投诉跟踪与回访, 004 §1.3 对投诉客户…进行回访 (default: 3 working days)."""
    cid = visit(engine, "complaint", LEAD, source_case="K-1")
    assert armed(engine, cid, "after_complaint") == local(2026, 3, 6, 10, 0)
    engine.advance(timedelta(days=3, minutes=1))
    assert "deadline:after_complaint:breached" in steps(engine, cid)


def test_key_users_are_visited_on_the_planned_date(engine: Engine):
    """004 §1.3 对…重点用户进行回访,收集用户意见."""
    cid = visit(engine, "key_user", HEAD, due_at="2026-03-20T10:00:00+08:00")
    assert armed(engine, cid, "key_user_visit") == local(2026, 3, 20, 10, 0)
    engine.fire(cid, "claim", HEAD)
    case = engine.fire(cid, "complete", HEAD, {"visit_note": "ok", "satisfaction": 4})
    assert case.state == "visited"


def test_claimed_from_the_queue_by_an_agent(engine: Engine):
    """003 来电客户资料的统计及合理分配: the due visit is a queue until claimed."""
    cid = visit(engine, "complaint", LEAD, source_case="K-1")
    assert engine.get(cid).owner is None
    case = engine.fire(cid, "claim", AGENT)
    assert case.owner == "agent.li"
    assert "claim_visit" not in case.armed


def test_failed_attempts_are_counted(engine: Engine):
    """003 三 2 无法电访: every failed attempt is recorded."""
    cid = visit(engine, "complaint", LEAD, source_case="K-1")
    for n in (1, 2):
        case = engine.fire(
            cid, "attempt_failed", AGENT, {"attempt_note": f"no answer {n}"}
        )
        assert case.state == "retrying"
        assert case.counters["attempts"] == n
    assert_consistent(engine, cid)


def test_customer_not_reached_within_the_month_is_listed(
    engine: Engine, notifier: Recorder
):
    """003 三 2 每月月初将上月无法电访客户名单发给服务站站台 (here: a month after the first try)."""
    cid = visit(engine, "complaint", LEAD, source_case="K-1")
    engine.fire(cid, "attempt_failed", AGENT, {"attempt_note": "no answer"})
    tried = engine.clock.now()
    due = engine.get(cid).armed["reach_within_month"]
    month_later = tried.replace(
        month=tried.month % 12 + 1, year=tried.year + tried.month // 12
    )
    assert due == month_later
    notifier.notices.clear()
    engine.advance(due - tried + timedelta(minutes=1))
    case = engine.get(cid)
    assert case.state == "unreached"
    assert case.closed
    assert any("cs_manager" in n.roles for n in notifier.notices)
    assert_consistent(engine, cid)


def test_every_completed_visit_records_a_satisfaction_score(engine: Engine):
    """001 了解客户对处理结果的满意度: a score from 1 to 5 on every completed visit."""
    cid = visit(engine, "complaint", LEAD, source_case="K-1")
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "complete", AGENT, {"visit_note": "fine"})
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "complete", AGENT, {"visit_note": "fine", "satisfaction": 6})
    case = engine.fire(
        cid, "complete", AGENT, {"visit_note": "fine", "satisfaction": 4}
    )
    assert case.data["satisfaction"] == 4


def test_an_opinion_opens_a_linked_feedback_case(engine: Engine):
    """004 §1.3 回访…收集用户意见; 001 客户反馈: the opinion becomes a feedback case."""
    cid = visit(engine, "complaint", LEAD, source_case="K-1")
    engine.fire(
        cid,
        "complete",
        AGENT,
        {"visit_note": "fine", "satisfaction": 3, "opinion": "call before you come"},
    )
    (fb,) = engine.query(workflow="feedback")
    assert fb.data["content"] == "call before you come"
    assert fb.data["source_case"] == cid
    assert engine.get(cid).data["feedback_case"] == fb.id


def test_a_visit_without_a_kind_is_a_general_visit(engine: Engine):
    """003 客服部助理 客户联系,定期回访 (default: within 5 working days)."""
    cid = engine.start("return_visit", AGENT, {"customer_id": "C-1"}).id
    assert engine.get(cid).data["kind"] == "general"
    assert armed(engine, cid, "general_visit") == local(2026, 3, 10, 10, 0)
