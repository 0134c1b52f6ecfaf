"""The customer feedback SOP (workflows/feedback.yaml), rule by rule (001 客户反馈, 004 §1.3)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import Actor, ConditionNotMetError, Engine, PermissionDeniedError

from .conftest import AGENT, HEAD, Recorder
from .helpers import assert_consistent, steps

RD_HEAD = Actor("head.gao", {"dept_head"}, units={"rd"})


def received(engine: Engine, **data: object) -> str:
    case = engine.start(
        "feedback",
        AGENT,
        {
            "customer_id": "C-1",
            "channel": "phone",
            "content": "the display is hard to read in sunlight",
            **data,
        },
    )
    return case.id


def test_recorded_classified_routed_answered(engine: Engine, notifier: Recorder):
    """001 客户反馈: 详细记录,初步分类; 000 §6.2 反馈给相关部门; answered to the customer."""
    cid = received(engine)
    assert engine.get(cid).owner == "agent.li"
    case = engine.fire(
        cid, "classify", AGENT, {"category": "suggestion", "department": "rd"}
    )
    assert (case.state, case.unit) == ("routed", "rd")
    (notice,) = notifier.notices
    assert (notice.unit, notice.unit_roles) == ("rd", ("dept_head",))
    engine.fire(
        cid,
        "answer",
        RD_HEAD,
        {
            "department_answer": "brighter panel next model",
            "improvement": "spec change",
        },
    )
    case = engine.fire(cid, "reply", AGENT, {"reply_note": "told the customer"})
    assert case.state == "closed"
    assert case.breaches == 0
    assert_consistent(engine, cid)


def test_only_the_routed_department_answers(engine: Engine):
    """000 §6.2 相关部门会积极配合: the department it was routed to answers."""
    cid = received(engine)
    engine.fire(
        cid, "classify", AGENT, {"category": "product_problem", "department": "rd"}
    )
    with pytest.raises(PermissionDeniedError):
        engine.fire(cid, "answer", HEAD, {"department_answer": "not ours"})


def test_simple_feedback_is_answered_by_the_agent(engine: Engine):
    """001 客服专员…记录,初步分类: praise needs no department."""
    cid = received(engine, content="thanks to the engineer")
    engine.fire(
        cid,
        "answer_directly",
        AGENT,
        {"category": "praise", "department_answer": "passed on"},
    )
    assert engine.fire(cid, "reply", AGENT, {"reply_note": "thanked"}).state == "closed"


def test_anonymous_feedback_closes_without_a_reply(engine: Engine):
    """001 鼓励客户通过各种渠道反馈: anonymous feedback has nobody to answer."""
    known = received(engine)
    engine.fire(
        known, "answer_directly", AGENT, {"category": "other", "department_answer": "x"}
    )
    with pytest.raises(ConditionNotMetError):
        engine.fire(known, "close_without_reply", AGENT, {"close_reason": "anonymous"})
    anon = engine.start("feedback", AGENT, {"content": "your hotline is slow"}).id
    engine.fire(
        anon,
        "answer_directly",
        AGENT,
        {"category": "service_opinion", "department_answer": "noted"},
    )
    case = engine.fire(
        anon, "close_without_reply", AGENT, {"close_reason": "anonymous"}
    )
    assert case.state == "closed"


def test_unclassified_and_unanswered_feedback_is_chased(engine: Engine):
    """001 客户反馈 (defaults: classified in 1 working day, answered in 5)."""
    cid = received(engine)
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:classify_feedback:breached" in steps(engine, cid)
    engine.fire(cid, "classify", AGENT, {"category": "suggestion", "department": "rd"})
    engine.advance(timedelta(days=7, minutes=1))  # 5 working days
    assert "deadline:department_answer:breached" in steps(engine, cid)


def test_feedback_that_is_a_complaint_becomes_one(engine: Engine):
    """003 三 8 接到客户投诉…: a complaint is handled as a complaint, linked and from the call."""
    cid = received(engine, content="second failure this month, I want compensation")
    case = engine.fire(
        cid, "convert_to_complaint", AGENT, {"complaint_channel": "phone"}
    )
    assert case.state == "converted"
    complaint = engine.get(str(case.data["complaint_case"]))
    assert complaint.workflow_id == "complaint"
    assert complaint.data["summary"] == "second failure this month, I want compensation"
    assert complaint.accepted_at == engine.get(cid).created_at
