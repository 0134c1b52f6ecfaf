"""The shipped emergency SOP (001 §8 应急响应机制), as repaired in issue 15."""

from __future__ import annotations

from datetime import timedelta

from cswork import Actor, Engine, VirtualClock

from .conftest import AGENT, MANAGER, Recorder, local
from .helpers import assert_consistent, steps

TEAM = {"cs_manager", "dept_head", "tech_support", "rd_engineer", "production"}
RD = Actor("rd.hu", {"rd_engineer"})
PRODUCTION = Actor("prod.gao", {"production"})


def declare(engine: Engine, *, drill: bool) -> str:
    case = engine.start(
        "emergency",
        AGENT,
        {"description": "outage", "emergency_type": "product_failure", "drill": drill},
    )
    return case.id


def planned(engine: Engine, *, drill: bool = False) -> str:
    cid = declare(engine, drill=drill)
    engine.fire(cid, "notify_concerned", AGENT, {"notified_parties": "all"})
    engine.fire(cid, "form_team", MANAGER, {"team_members": "a, b"})
    engine.fire(cid, "adopt_plan", MANAGER, {"plan": "fail over"})
    return cid


def test_a_drill_notifies_the_emergency_team(engine: Engine, notifier: Recorder):
    """001 §8 应急演练: 检验和提高应急处理小组的…协同作战能力 — the whole team
    hears of the drill; the leadership does not."""
    declare(engine, drill=True)
    (notice,) = notifier.notices
    assert set(notice.roles) == TEAM


def test_a_real_emergency_notifies_everyone_at_any_hour(
    engine: Engine, clock: VirtualClock, notifier: Recorder
):
    """001 §8: 立即启动应急响应流程, 迅速通知相关部门和人员 — at 22:00 too, and
    R&D (研发部门) and production (生产部门) are among the departments (001 三 2.)."""
    clock.set(local(2026, 3, 3, 22, 0))
    declare(engine, drill=False)
    (notice,) = notifier.notices
    assert set(notice.roles) == TEAM | {"leadership"}
    assert notice.held_until is None


def test_r_and_d_and_production_report_measures(engine: Engine):
    """001 三 2.: 研发部门 helps with complex problems, 生产部门 supplies parts."""
    cid = planned(engine)
    engine.fire(cid, "report_measures", RD, {"measures_taken": "hotfix built"})
    engine.fire(cid, "report_measures", PRODUCTION, {"measures_taken": "spares sent"})
    assert steps(engine, cid).count("report_measures") == 2


def test_after_the_plan_the_measures_are_watched(engine: Engine):
    """001 §8 采取有效的措施…损失降到最低: default, progress at least every 4 hours
    while mitigating; then the review within 5 working days."""
    cid = planned(engine)
    engine.advance(timedelta(hours=3))
    engine.fire(cid, "report_measures", MANAGER, {"measures_taken": "failed over"})
    engine.advance(timedelta(hours=5))  # nothing reported for a while
    outcomes = [
        h.detail["outcome"]
        for h in engine.history(cid)
        if h.kind == "period" and h.event == "measures_progress"
    ]
    assert outcomes[0] == "met"
    assert "missed" in outcomes
    engine.fire(cid, "recover", MANAGER, {"recovery_note": "back"})
    assert "review_within_5d" in engine.get(cid).armed
    engine.advance(timedelta(days=8))
    assert "deadline:review_within_5d:breached" in steps(engine, cid)
    assert_consistent(engine, cid)


def test_the_team_in_1_hour_and_the_plan_in_4_hours(engine: Engine):
    """001 §8 成立应急处理小组, 制定应急处理方案 — defaults: team within 1 h, plan
    within 4 h of the start, wall clock."""
    cid = declare(engine, drill=False)
    engine.fire(cid, "notify_concerned", AGENT, {"notified_parties": "all"})
    engine.advance(timedelta(hours=1, minutes=1))
    assert "deadline:team_within_1h:breached" in steps(engine, cid)
    engine.fire(cid, "form_team", MANAGER, {"team_members": "a, b"})
    engine.advance(timedelta(hours=3))
    assert "deadline:plan_within_4h:breached" in steps(engine, cid)
    case = engine.fire(cid, "adopt_plan", MANAGER, {"plan": "fail over"})
    assert case.state == "mitigating"
    assert case.breaches == 2
