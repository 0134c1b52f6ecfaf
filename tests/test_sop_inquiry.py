"""Every path of the shipped inquiry SOP, with its response deadlines."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import Engine, InvalidDataError, VirtualClock

from .conftest import AGENT, LEAD, SUPPORT, local
from .helpers import assert_consistent, snapshot, steps


def start(engine: Engine, channel: str) -> str:
    case = engine.start(
        "inquiry",
        AGENT,
        {"customer_id": "C-7", "channel": channel, "question": "How do I reset it?"},
    )
    return case.id


def due_of(engine: Engine, cid: str, deadline: str):
    (timer,) = [
        t for t in engine.timers(cid) if t.deadline == deadline and t.kind == "due"
    ]
    return timer.due_at


def test_simple_question_answered_directly(engine: Engine):
    cid = start(engine, "phone")
    engine.fire(cid, "respond", AGENT)
    engine.fire(
        cid, "answer", AGENT, {"answer": "hold the button", "advice": "unplug it first"}
    )
    engine.fire(cid, "close", AGENT)
    assert engine.get(cid).state == "closed"
    assert steps(engine, cid) == ["start", "respond", "answer", "close"]
    assert_consistent(engine, cid)


def test_answer_needs_advice_and_cautions(engine: Engine):
    cid = start(engine, "chat")
    engine.fire(cid, "respond", AGENT)
    before = snapshot(engine, cid)
    with pytest.raises(InvalidDataError) as err:
        engine.fire(cid, "answer", AGENT, {"answer": "hold the button"})
    assert err.value.field_errors == {"advice": "required"}
    assert snapshot(engine, cid) == before


def test_complex_question_goes_to_tech_support_and_back(engine: Engine):
    cid = start(engine, "email")
    engine.fire(cid, "respond", AGENT)
    engine.fire(cid, "transfer", AGENT, {"question_detail": "firmware 2.1 crash"})
    assert [t.deadline for t in engine.timers(cid) if t.kind == "due"] == [
        "answer_complex"
    ]
    engine.fire(cid, "provide_answer", SUPPORT, {"support_answer": "update to 2.2"})
    engine.fire(cid, "tell_customer", AGENT, {"answer": "update", "advice": "back up"})
    # answered: only the (default) reminder to close it runs now
    assert [t.deadline for t in engine.timers(cid) if t.kind == "due"] == [
        "close_answered"
    ]
    engine.fire(cid, "sample_for_review", LEAD)
    engine.fire(cid, "complete_review", LEAD, {"review_result": "pass"})
    assert engine.get(cid).state == "closed"
    assert engine.get(cid).breaches == 0
    assert_consistent(engine, cid)


def test_phone_must_be_answered_within_30_seconds(engine: Engine):
    cid = start(engine, "phone")
    engine.advance(timedelta(seconds=29))
    assert engine.get(cid).breaches == 0
    engine.advance(timedelta(seconds=2))
    assert steps(engine, cid)[-1] == "deadline:first_response_phone:breached"
    assert engine.get(cid).breaches == 1


def test_email_at_22h_tuesday_is_due_10h_wednesday(engine: Engine, clock: VirtualClock):
    clock.set(local(2026, 3, 3, 22, 0))
    cid = start(engine, "email")
    assert due_of(engine, cid, "first_response_written") == local(2026, 3, 4, 10, 0)


def test_email_at_1730_friday_is_due_0930_monday(engine: Engine, clock: VirtualClock):
    clock.set(local(2026, 3, 6, 17, 30))
    cid = start(engine, "email")
    assert due_of(engine, cid, "first_response_written") == local(2026, 3, 9, 9, 30)


def test_email_before_a_holiday_is_due_on_the_next_working_day(make_engine):
    # Friday before the Spring Festival
    engine = make_engine(clock=VirtualClock(local(2026, 2, 13, 17, 30)))
    cid = start(engine, "chat")
    # Saturday 02-14 is a make-up working day (调休).
    assert due_of(engine, cid, "first_response_written") == local(2026, 2, 14, 9, 30)


def test_a_response_in_time_cancels_the_deadline_for_good(
    engine: Engine, clock: VirtualClock
):
    cid = start(engine, "email")
    engine.advance(timedelta(minutes=20))
    engine.fire(cid, "respond", AGENT)
    assert "first_response_written" not in engine.get(cid).armed
    engine.fire(cid, "answer", AGENT, {"answer": "yes", "advice": "keep the receipt"})
    engine.fire(cid, "close", AGENT)
    assert engine.timers(cid) == []
    engine.advance(timedelta(days=3))
    assert engine.get(cid).breaches == 0
    cancelled = engine.timers(cid, pending_only=False)
    assert {t.state for t in cancelled} == {"cancelled"}
    assert_consistent(engine, cid)


# --- rules repaired in issue 15 ------------------------------------------------


def test_a_picked_up_inquiry_is_watched_until_answered(engine: Engine):
    """001 §4: 对于简单问题…直接给予答复, 复杂问题…及时转接 — after the first
    response the inquiry must be answered or transferred (default: 2 working h)."""
    cid = start(engine, "phone")
    engine.fire(cid, "respond", AGENT)
    assert due_of(engine, cid, "handle_after_response") == local(2026, 3, 3, 12, 0)
    engine.advance(timedelta(hours=2, minutes=1))
    assert steps(engine, cid)[-1] == "deadline:handle_after_response:breached"


def test_answered_and_sampled_inquiries_are_watched(engine: Engine):
    """000 §7.2 随机抽查: an answered inquiry is closed or sampled, a sampled one
    reviewed (defaults: 1 and 2 working days)."""
    cid = start(engine, "chat")
    engine.fire(cid, "respond", AGENT)
    engine.fire(cid, "answer", AGENT, {"answer": "yes", "advice": "mind the fuse"})
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:close_answered:breached" in steps(engine, cid)
    engine.fire(cid, "sample_for_review", LEAD)
    assert "review_sampled" in engine.get(cid).armed
    engine.advance(timedelta(days=2, minutes=1))
    assert "deadline:review_sampled:breached" in steps(engine, cid)


@pytest.mark.parametrize("kind", ["complaint", "routine_problem"])
def test_the_taker_decides_routine_problem_or_complaint(engine: Engine, kind: str):
    """004 §2.2.2: 受理人确认问题的类型(常规问题/客户投诉) — the inquiry ends as
    converted, recording the kind, and no deadline of it stays armed."""
    cid = start(engine, "phone")
    engine.fire(cid, "respond", AGENT)
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "convert", AGENT, {"problem_kind": "feedback"})
    case = engine.fire(
        cid,
        "convert",
        AGENT,
        {"problem_kind": kind, "conversion_note": "the customer is angry"},
    )
    assert case.state == "converted"
    assert case.closed
    assert case.data["problem_kind"] == kind
    assert engine.timers(cid) == []
    history = [h for h in engine.history(cid) if h.event == "convert"]
    assert len(history) == 1
    assert_consistent(engine, cid)


@pytest.mark.parametrize("channel", ["email", "chat", "fax", "web_form"])
def test_written_channels_get_a_first_reply_within_a_working_hour(
    engine: Engine, channel: str
):
    """000 §2.1, 004 §1: 电话、传真、E-mail、网站, online chat — written channels
    (fax and web forms by default) are answered within 1 working hour."""
    cid = start(engine, channel)
    assert due_of(engine, cid, "first_response_written") == local(2026, 3, 3, 11, 0)
    with pytest.raises(InvalidDataError):
        start(engine, "letter")
