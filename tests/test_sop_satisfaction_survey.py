"""The satisfaction survey SOP (workflows/satisfaction_survey.yaml), rule by rule.

Sources: seed 000 §5.2, 002 §2.2, 003 SSI/CSI.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from cswork import ConditionNotMetError, Engine, InvalidDataError

from .conftest import AGENT, LEAD, Recorder
from .helpers import assert_consistent, steps


def survey(engine: Engine, method: str = "phone", index: str = "csi") -> str:
    case = engine.start(
        "satisfaction_survey",
        AGENT,
        {"customer_id": "C-1", "index": index, "method": method, "survey": "2026 Q1"},
    )
    return case.id


@pytest.mark.parametrize("method", ["phone", "mail", "questionnaire", "interview"])
def test_by_phone_mail_questionnaire_or_interview(engine: Engine, method: str):
    """000 §5.2 通过电话、邮件或问卷调查; 002 §2.2 现场访谈."""
    cid = survey(engine, method)
    if method in ("mail", "questionnaire"):
        assert engine.fire(cid, "send", AGENT).state == "sent"
    case = engine.fire(cid, "record", AGENT, {"score": 4, "comments": "quick service"})
    assert case.state == "done"
    assert case.data["comments"] == "quick service"


def test_a_phone_survey_is_not_sent(engine: Engine):
    """000 §5.2: mail and questionnaires are sent and answered; a call is answered at once."""
    cid = survey(engine, "phone")
    with pytest.raises(ConditionNotMetError):
        engine.fire(cid, "send", AGENT)


@pytest.mark.parametrize("index", ["ssi", "csi", "general"])
def test_ssi_and_csi_surveys(engine: Engine, index: str):
    """003 反馈与调查SSI 销售满意度, CSI 售后满意度."""
    cid = survey(engine, index=index)
    assert engine.get(cid).data["index"] == index


def test_score_is_recorded_within_its_scale(engine: Engine):
    """000 §5.2 收集客户…意见和建议: a score from 1 to 5 (default scale)."""
    cid = survey(engine)
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "record", AGENT, {"score": 0})
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "record", AGENT, {})


def test_low_score_needs_comments_and_a_follow_up(engine: Engine, notifier: Recorder):
    """000 §5.2 找出我们存在的不足之处 (default: a score of 1–2 is low)."""
    cid = survey(engine)
    with pytest.raises(ConditionNotMetError, match="comments"):
        engine.fire(cid, "record", AGENT, {"score": 2})
    case = engine.fire(cid, "record", AGENT, {"score": 2, "comments": "slow repair"})
    assert case.state == "low_score"
    assert any("Low satisfaction" in n.message for n in notifier.notices)
    engine.advance(timedelta(days=1, minutes=1))
    assert "deadline:open_follow_up:breached" in steps(engine, cid)


def test_low_score_opens_a_linked_complaint(engine: Engine):
    """000 §5.2 制定相应的改进措施: a low score becomes a complaint, linked."""
    cid = survey(engine, "mail")
    engine.fire(cid, "send", AGENT)
    engine.fire(cid, "record", AGENT, {"score": 1, "comments": "nobody came"})
    case = engine.fire(
        cid, "open_complaint", LEAD, {"follow_up_summary": "engineer never came"}
    )
    assert case.state == "followed_up"
    complaint = engine.get(str(case.data["follow_up_case"]))
    assert complaint.workflow_id == "complaint"
    assert complaint.data["customer_id"] == "C-1"
    assert complaint.data["channel"] == "email"  # mail → email
    assert complaint.data["summary"] == "engineer never came"
    assert_consistent(engine, cid)


def test_low_score_opens_a_linked_routine_problem(engine: Engine):
    """000 §5.2 改进措施 for a problem that is no complaint: a routine problem, linked both ways."""
    cid = survey(engine, "interview")
    engine.fire(cid, "record", AGENT, {"score": 2, "comments": "needs training"})
    case = engine.fire(
        cid, "open_routine_problem", AGENT, {"follow_up_summary": "train the new staff"}
    )
    problem = engine.get(str(case.data["follow_up_case"]))
    assert problem.workflow_id == "routine_problem"
    assert problem.data["source_case"] == cid
    assert problem.data["channel"] == "visit"  # interview → visit


def test_lead_may_decide_no_follow_up_with_a_reason(engine: Engine):
    """000 §5.2 认真分析调查结果: the lead may judge a low score needs nothing."""
    cid = survey(engine)
    engine.fire(cid, "record", AGENT, {"score": 2, "comments": "price too high"})
    with pytest.raises(InvalidDataError):
        engine.fire(cid, "no_follow_up", LEAD, {})
    case = engine.fire(cid, "no_follow_up", LEAD, {"no_follow_up_reason": "pricing"})
    assert case.state == "done"


def test_unanswered_questionnaire_is_closed_as_no_response(engine: Engine):
    """002 §2.2 问卷调查 (default: 10 working days, reminder after 5)."""
    cid = survey(engine, "questionnaire")
    engine.fire(cid, "send", AGENT)
    engine.advance(timedelta(days=14, minutes=1))  # 10 working days
    case = engine.get(cid)
    assert case.state == "no_response"
    assert_consistent(engine, cid)


def test_customer_not_surveyed_is_chased(engine: Engine, notifier: Recorder):
    """000 §5.2 定期开展 (default: each customer of a round within 5 working days)."""
    cid = survey(engine)
    engine.advance(timedelta(days=7, minutes=1))  # Tuesday → next Tuesday
    assert "deadline:conduct_survey:breached" in steps(engine, cid)
