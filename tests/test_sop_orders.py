"""The order handling SOP (workflows/orders.yaml), rule by rule (seed 000 ch.4)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import (
    Actor,
    ConditionNotMetError,
    Engine,
    InvalidDataError,
    PermissionDeniedError,
    VirtualClock,
)

from .conftest import AGENT, MANAGER, Recorder, local
from .helpers import assert_consistent, steps

LOGISTICS = Actor("ship.he", {"logistics"})
WAREHOUSE = Actor("store.zheng", {"warehouse"})
OTHER_AGENT = Actor("agent.ma", {"cs_agent"})

DETAILS = {
    "customer_name": "Ms Chen",
    "contact": "138-0000-0000",
    "address": "1 Nanjing Road, Shanghai",
    "product_model": "X1",
    "quantity": 2,
    "price": 199.0,
}
CONFIRMATION = {
    "order_no": "O-2026-001",
    "expected_delivery_at": "2026-03-10T12:00:00+08:00",  # a Tuesday
    "confirmation_channel": "email",
}


def received(engine: Engine, **details: object) -> str:
    case = engine.start(
        "orders", AGENT, {"customer_id": "C-1", "channel": "web", **details}
    )
    return case.id


def confirmed(engine: Engine) -> str:
    cid = received(engine, **DETAILS)
    engine.fire(cid, "check", AGENT, {"details_verified": True})
    engine.fire(cid, "confirm", AGENT, CONFIRMATION)
    return cid


def breached(engine: Engine, cid: str) -> list[str]:
    return [s for s in steps(engine, cid) if s.endswith(":breached")]


def test_happy_path_from_receipt_to_closed(engine: Engine):
    """000 §4.1–4.2: received → checked → confirmed → tracked → delivered → closed."""
    cid = confirmed(engine)
    engine.fire(cid, "track", AGENT, {"tracking_note": "packed"})
    engine.fire(
        cid,
        "agree_delivery",
        AGENT,
        {"delivery_at": "2026-03-09T10:00:00+08:00", "delivery_place": "front desk"},
    )
    engine.fire(
        cid, "deliver", LOGISTICS, {"goods_as_ordered": True, "receipt_no": "R-7"}
    )
    case = engine.fire(cid, "close", AGENT)
    assert case.state == "closed"
    assert case.breaches == 0
    assert engine.timers(cid) == []
    assert case.data["receipt_no"] == "R-7"
    assert_consistent(engine, cid)


def test_check_needs_every_detail_of_the_order(engine: Engine):
    """000 §4.1 核对客户的姓名、联系方式、收货地址、产品型号、数量、价格."""
    without_address = {k: v for k, v in DETAILS.items() if k != "address"}
    cid = received(engine, **without_address)
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "check", AGENT, {"details_verified": True})
    assert engine.get(cid).state == "received"
    case = engine.fire(
        cid, "check", AGENT, {"details_verified": True, "address": "1 Nanjing Road"}
    )
    assert case.state == "checked"


def test_unsure_details_are_asked_of_the_customer(engine: Engine, notifier: Recorder):
    """000 §4.1 如有疑问会及时与客户沟通核实: the order waits for the customer's answer."""
    cid = received(engine, **DETAILS)
    case = engine.fire(cid, "ask_customer", AGENT, {"query": "which colour?"})
    assert case.state == "querying"
    assert [t.deadline for t in engine.timers(cid)] == ["customer_answer"]
    engine.advance(timedelta(days=1, hours=1))  # one working day later: reminder
    assert any(n.persons == ("agent.li",) for n in notifier.notices)
    case = engine.fire(
        cid,
        "customer_answered",
        AGENT,
        {"query_answer": "red", "product_model": "X1-R"},
    )
    assert case.state == "received"
    assert case.data["product_model"] == "X1-R"


def test_confirmation_carries_order_number_and_delivery_time(
    engine: Engine, notifier: Recorder
):
    """000 §4.1 订单确认 with 订单编号 and 预计交付时间; passed to 仓库、物流 at once."""
    cid = received(engine, **DETAILS)
    engine.fire(cid, "check", AGENT, {"details_verified": True})
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "confirm", AGENT, {"order_no": "O-1"})
    case = engine.fire(cid, "confirm", AGENT, CONFIRMATION)
    assert case.state == "in_fulfilment"
    assert case.data["order_no"] == "O-2026-001"
    (notice,) = notifier.notices
    assert set(notice.roles) == {"warehouse", "logistics"}


def test_only_the_owner_checks_the_order(engine: Engine):
    """000 §4.2 全程跟踪: the agent who received the order owns and follows it."""
    cid = received(engine, **DETAILS)
    assert engine.get(cid).owner == "agent.li"
    with pytest.raises(PermissionDeniedError):
        engine.fire(cid, "check", OTHER_AGENT, {"details_verified": True})


def test_unchecked_order_breaches_after_four_working_hours(engine: Engine):
    """000 §4.1 及时进行审核和确认 (default 4 working hours)."""
    cid = received(engine, **DETAILS)  # Tuesday 10:00
    engine.advance(timedelta(hours=4))  # 14:00: 3 working hours (lunch break)
    assert breached(engine, cid) == []
    engine.advance(timedelta(hours=1))
    assert breached(engine, cid) == ["deadline:check_order:breached"]


def test_order_is_tracked_every_working_day(engine: Engine):
    """000 §4.2 对订单进行全程跟踪 (default: every working day)."""
    cid = confirmed(engine)  # Tuesday 10:00
    engine.advance(timedelta(hours=23))
    engine.fire(cid, "track", AGENT, {"tracking_note": "in stock"})
    engine.advance(timedelta(days=1, hours=2))
    assert steps(engine, cid)[-2:] == [
        "period:daily_tracking:met",
        "period:daily_tracking:missed",
    ]


def test_exception_is_told_to_the_customer_with_a_solution(
    engine: Engine, notifier: Recorder
):
    """000 §4.2 库存不足、物流延误 → 及时与客户沟通,说明情况并提供解决方案."""
    cid = confirmed(engine)
    notifier.notices.clear()
    case = engine.fire(
        cid,
        "report_exception",
        WAREHOUSE,
        {"exception_kind": "out_of_stock", "exception_note": "restock Friday"},
    )
    assert case.state == "exception"
    assert notifier.notices[0].persons == ("agent.li",)
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "inform_customer", AGENT, {})
    case = engine.fire(
        cid,
        "inform_customer",
        AGENT,
        {
            "solution": "deliver on the 12th or swap for X2",
            "expected_delivery_at": "2026-03-12T12:00:00+08:00",
        },
    )
    assert case.state == "in_fulfilment"
    promise = next(t for t in engine.timers(cid) if t.deadline == "delivery_promise")
    assert promise.due_at == local(2026, 3, 12, 12, 0)


def test_exception_not_told_within_four_working_hours_is_breached(engine: Engine):
    """000 §4.2 及时与客户沟通 (default: 4 working hours)."""
    cid = confirmed(engine)
    engine.fire(
        cid,
        "report_exception",
        LOGISTICS,
        {"exception_kind": "logistics_delay", "exception_note": "truck broke down"},
    )
    engine.advance(timedelta(hours=6))
    assert "deadline:exception_told:breached" in breached(engine, cid)


def test_late_delivery_is_breached_at_the_expected_time(
    engine: Engine, clock: VirtualClock
):
    """000 §4.2 保证订单按时交付: the expected delivery time told to the customer."""
    cid = confirmed(engine)
    engine.fire(
        cid,
        "agree_delivery",
        AGENT,
        {"delivery_at": "2026-03-10T11:00:00+08:00", "delivery_place": "site"},
    )
    clock.set(local(2026, 3, 10, 12, 30))
    engine.run_due()
    assert "deadline:delivery_promise:breached" in breached(engine, cid)
    assert "deadline:deliver_as_agreed:breached" in breached(engine, cid)


def test_delivery_is_agreed_a_working_day_in_advance(engine: Engine):
    """000 §4.2 当订单准备交付时,我们会提前与客户联系 (default: 1 working day before)."""
    cid = confirmed(engine)
    advance = next(t for t in engine.timers(cid) if t.deadline == "agree_in_advance")
    assert advance.due_at == local(2026, 3, 9, 13, 0)  # 8 working hours before


def test_delivery_needs_a_receipt_and_the_goods_as_ordered(engine: Engine):
    """000 §4.2 保证产品的质量和数量符合订单要求,并提供相应的交付凭证."""
    cid = confirmed(engine)
    engine.fire(
        cid,
        "agree_delivery",
        LOGISTICS,
        {"delivery_at": "2026-03-09T10:00:00+08:00", "delivery_place": "site"},
    )
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "deliver", LOGISTICS, {"goods_as_ordered": True})
    with pytest.raises(ConditionNotMetError):
        engine.fire(
            cid, "deliver", LOGISTICS, {"goods_as_ordered": False, "receipt_no": "R"}
        )
    assert engine.get(cid).state == "delivery_agreed"


def test_a_dispute_is_handled_before_the_order_closes(engine: Engine):
    """000 §4.2 客户对交付的产品有任何疑问或不满意,我们会及时处理."""
    cid = confirmed(engine)
    engine.fire(
        cid,
        "agree_delivery",
        LOGISTICS,
        {"delivery_at": "2026-03-09T10:00:00+08:00", "delivery_place": "site"},
    )
    engine.fire(
        cid, "deliver", LOGISTICS, {"goods_as_ordered": True, "receipt_no": "R"}
    )
    case = engine.fire(cid, "dispute", AGENT, {"dispute_note": "one box dented"})
    assert case.state == "disputed"
    engine.advance(timedelta(days=3))  # Friday evening: 2 working days have passed
    assert "deadline:settle_dispute:breached" in breached(engine, cid)
    case = engine.fire(
        cid, "settle_dispute", MANAGER, {"dispute_resolution": "box replaced"}
    )
    assert case.state == "closed"
    assert_consistent(engine, cid)
