"""Golden figures: hand-made histories give exactly the expected indicators.

Each test drives real workflows on a virtual clock (so the histories are the
engine's own), then checks the report's figures to the unit, and names the
seed behind the target it checks (docs/indicators.md).
"""

from __future__ import annotations

import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cswork import Actor, Engine, VirtualClock
from cswork.definition import load_paths
from cswork.report import Report, ReportConfig, build_report, parse_report_config
from cswork.storage import MemoryStore, Store

from .conftest import AGENT, HEAD, LEAD, MANAGER, WORKFLOWS, Recorder, local

LI = Actor("li.na", {"cs_agent"})
WANG = Actor("wang.fang", {"cs_agent"})
CLERK = Actor("clerk.he", {"clerk"})
CALLER = Actor("caller.ma", {"agent"})
MONDAY = local(2026, 3, 2, 9, 0)  # a working Monday

# An owner's SOP: other ids, other outcomes, a type field not called "type",
# a satisfaction score, and a calendar in another zone.
ORDERS = """
workflow: shop_orders
version: 1
title: Orders
calendar: berlin
customer_field: customer_id
roles: {clerk: takes orders}
fields:
  customer_id: {type: string}
  category: {type: enum, values: [hardware, software]}
  satisfaction_score: {type: integer, min: 1, max: 5}
states:
  received: {initial: true}
  handling: {}
  delivered: {final: true, outcome: resolved}
  transferred: {final: true, outcome: transferred}
  cancelled: {final: true, outcome: cancelled}
  lost: {final: true, outcome: lost}
start: {roles: [clerk], requires: [customer_id, category]}
transitions:
  - {event: accept, from: received, to: handling, roles: [clerk], tags: [first_response]}
  - event: deliver
    from: handling
    to: delivered
    roles: [clerk]
    optional: [satisfaction_score]
    tags: [resolve]
  - {event: transfer, from: handling, to: transferred, roles: [clerk]}
  - {event: cancel, from: handling, to: cancelled, roles: [clerk]}
  - {event: lose, from: handling, to: lost, roles: [clerk]}
"""
BERLIN = """
calendar: berlin
timezone: Europe/Berlin
country: null
"""
# A return-visit SOP that feeds the unreached-customers list (003).
RETURN_CALL = """
workflow: return_call
version: 1
title: Return call
roles: {agent: calls customers back}
fields: {customer_id: {type: string}}
states:
  due: {initial: true}
  done: {final: true, outcome: resolved}
  unreachable: {final: true, outcome: unreachable}
start: {roles: [agent], requires: [customer_id]}
transitions:
  - {event: no_answer, from: due, roles: [agent], tags: [contact_attempt]}
  - {event: reached, from: due, to: done, roles: [agent], tags: [contact_attempt, contact_made]}
  - {event: give_up, from: due, to: unreachable, roles: [agent]}
"""


def make_engine(
    tmp_path: Path,
    *extra: str,
    start: datetime = MONDAY,
    store: Store | None = None,
) -> Engine:
    """The shipped SOPs plus ``extra`` documents, on a virtual clock."""
    paths: list[Path] = [WORKFLOWS]
    if extra:
        own = tmp_path / "own"
        own.mkdir(exist_ok=True)
        for n, text in enumerate(extra):
            (own / f"doc{n}.yaml").write_text(textwrap.dedent(text), encoding="utf-8")
        paths.append(own)
    defs = load_paths(paths)
    return Engine(
        defs.workflows,
        calendars=defs.calendars,
        store=store or MemoryStore(),
        clock=VirtualClock(start),
        notifier=Recorder(),
    )


def call(engine: Engine, customer: str = "C-1", **data: Any) -> str:
    payload = {"customer_id": customer, "channel": "phone", "question": "Where?"}
    return engine.start("inquiry", WANG, {**payload, **data}).id


def wait(engine: Engine, **delta: float) -> None:
    engine.advance(timedelta(**delta))


def indicator(report: Report, key: str) -> tuple[float | None, int, dict[str, Any]]:
    i = report.indicator(key)
    return i.value, i.n, dict(i.detail)


# -------------------------------------------------------------- response time
def test_phone_response_is_judged_per_call_not_by_the_median(tmp_path: Path):
    """002 §9.1.2: response ≤ 30 s; 003 and 000 §2.1: every call within three rings."""
    engine = make_engine(tmp_path)
    calls = [call(engine) for _ in range(3)]
    wait(engine, seconds=25)
    engine.fire(calls[0], "respond", LI)
    wait(engine, seconds=6)
    engine.fire(calls[1], "respond", LI)
    wait(engine, seconds=39)
    engine.fire(calls[2], "respond", LI)
    report = build_report(engine)
    value, n, d = indicator(report, "response.phone")
    assert value == pytest.approx(1 / 3)
    assert n == 3
    assert (d["answered"], d["within"], d["unanswered_late"]) == (3, 1, 0)
    assert (d["p50"], d["p90"], d["p99"], d["max"]) == (31.0, 70.0, 70.0, 70.0)
    assert d["target_seconds"] == 30.0
    i = report.indicator("response.phone")
    assert i.ok is False
    assert i.target is not None
    assert i.target.at_least == 1.0
    assert "002 §9.1.2" in i.target.source


def test_an_unanswered_call_counts_once_it_has_waited_past_the_target(tmp_path: Path):
    """002 §9.1.2 / 003: a call nobody picks up is a call not answered in time."""
    engine = make_engine(tmp_path)
    answered = call(engine)
    wait(engine, seconds=20)
    engine.fire(answered, "respond", LI)
    waiting = call(engine)
    wait(engine, seconds=10)
    _, n, d = indicator(build_report(engine), "response.phone")
    assert (n, d["waiting"], d["unanswered_late"]) == (1, 1, 0)  # 10 s: still ringing
    wait(engine, seconds=35)
    value, n, d = indicator(build_report(engine), "response.phone")
    assert (value, n, d["unanswered_late"], d["waiting"]) == (0.5, 2, 1, 0)
    assert engine.get(waiting).state == "received"


def test_written_inquiries_count_working_time(tmp_path: Path):
    """000 §2.1: e-mail within one hour; off-hours mail within the first working hour."""
    engine = make_engine(tmp_path, start=local(2026, 3, 6, 17, 30))  # Friday
    mail = engine.start(
        "inquiry", WANG, {"customer_id": "C-1", "channel": "email", "question": "Q"}
    ).id
    engine.clock.set(local(2026, 3, 9, 9, 20))  # type: ignore[attr-defined]
    engine.fire(mail, "respond", LI)
    value, n, d = indicator(build_report(engine), "response.email")
    assert (value, n) == (1.0, 1)
    assert d["p50"] == 50 * 60  # 17:30-18:00 Friday + 09:00-09:20 Monday
    assert (d["basis"], d["target_seconds"]) == ("working", 3600.0)


# ----------------------------------------------------------- repeat inquiries
def test_a_repeat_is_the_same_customer_and_the_same_topic(tmp_path: Path):
    """002 §9.1.2: 客户重复咨询率 (the same question again) ≤ 5 %."""
    engine = make_engine(tmp_path)
    call(engine, question="Where is my invoice?")
    wait(engine, days=1)
    call(engine, question="How do I reset the router?")
    report = build_report(engine)
    value, n, d = indicator(report, "repeat_inquiry_rate")
    assert (value, n, d["repeats"]) == (0.0, 2, 0)  # two topics: no repeat
    wait(engine, days=1)
    call(engine, question="where is my   INVOICE?")  # the same question again
    call(engine, customer="C-2", question="Where is my invoice?")  # someone else
    value, n, d = indicator(build_report(engine), "repeat_inquiry_rate")
    assert (value, n, d["repeats"]) == (0.25, 4, 1)
    wait(engine, days=8)
    call(engine, question="How do I reset the router?")  # outside the 7-day window
    value, n, _ = indicator(build_report(engine), "repeat_inquiry_rate")
    assert (value, n) == (0.2, 5)
    assert report.indicator("repeat_inquiry_rate").target.at_most == 0.05  # type: ignore[union-attr]


def test_repeats_look_back_before_the_period(tmp_path: Path):
    """002 §9.1.2: an inquiry repeating one from before the period still repeats."""
    engine = make_engine(tmp_path)
    call(engine, question="Invoice?")
    wait(engine, days=2)
    since = engine.clock.now()
    call(engine, question="Invoice?")
    value, n, _ = indicator(build_report(engine, since=since), "repeat_inquiry_rate")
    assert (value, n) == (1.0, 1)


# ------------------------------------------------------------- productivity
def _busy_morning(engine: Engine) -> None:
    """23 calls from 09:00 to 10:50: wang.fang takes each, li.na answers it."""
    for _ in range(23):
        case = call(engine)
        engine.fire(case, "respond", LI)
        wait(engine, minutes=5)


def test_23_cases_in_2_working_hours_is_11_5_per_hour(tmp_path: Path):
    """002 §9.1.2: 人均每小时处理 ≥ 10 个客户问题 (cases per person per working hour)."""
    engine = make_engine(tmp_path)
    _busy_morning(engine)
    since, until = MONDAY, MONDAY + timedelta(hours=2)
    mine = build_report(engine, since=since, until=until, person="li.na")
    value, n, d = indicator(mine, "productivity")
    assert (value, n, d["handled"], d["working_hours"], d["people"]) == (
        11.5, 23, 23, 2.0, 1,
    )  # fmt: skip
    assert mine.indicator("productivity").ok is True
    team = build_report(engine, since=since, until=until)
    value, n, d = indicator(team, "productivity")
    assert (value, d["handled"], d["working_hours"], d["people"]) == (11.5, 46, 4.0, 2)
    person = team.cuts["person"]["li.na"].indicators
    assert next(i for i in person if i.key == "productivity").value == 11.5


def test_working_time_is_the_calendars_hours_on_the_days_worked(tmp_path: Path):
    """002 §9.1.2 per working hour: a whole working day is 8 hours (default calendar)."""
    engine = make_engine(tmp_path)
    _busy_morning(engine)
    day = build_report(
        engine, since=MONDAY.replace(hour=0), until=MONDAY + timedelta(days=1)
    )
    value, _, d = indicator(day, "productivity")
    assert (value, d["working_hours"]) == (46 / 16, 16.0)
    assert day.indicator("productivity").ok is False


def test_only_the_configured_roles_count_as_handling(tmp_path: Path):
    """002 §9.1.2 counts service staff; productivity.roles says who that is."""
    engine = make_engine(tmp_path)
    _busy_morning(engine)
    until = MONDAY + timedelta(hours=2)
    cfg = parse_report_config("productivity: {roles: [cs_lead]}")
    value, n, _ = indicator(
        build_report(engine, until=until, config=cfg), "productivity"
    )
    assert (value, n) == (None, 0)


# --------------------------------------------------------------- complaints
def _complaint(engine: Engine, severity: str) -> str:
    case = engine.start(
        "complaint",
        AGENT,
        {"customer_id": "C-9", "channel": "phone", "summary": "Broken"},
    ).id
    engine.fire(
        case,
        "record",
        LEAD,
        {"organisation": "ACME", "contact_person": "Ms Chen", "phone": "021",
         "request": "Fix", "expectation": "Soon", "apologised": True,
         "current_situation": "down"},
    )  # fmt: skip
    engine.fire(case, "classify", LEAD, {"type": "product", "severity": severity})
    return case


def _close(engine: Engine, case: str, *, reopen: bool = False) -> None:
    if engine.get(case).state == "routed":
        engine.fire(
            case,
            "plan",
            HEAD,
            {
                "expected_resolution_at": "2026-03-20T10:00:00+08:00",
                "measures": "m",
                "handler": "head.zhao",
            },
        )
    found = {"evidence": "logs", "responsible_person": "head.zhao"}
    engine.fire(case, "resolve", HEAD, {"resolution": "fixed", **found})
    engine.fire(case, "inform_result", LEAD, {"result_note": "told"})
    if reopen:
        engine.fire(case, "reopen", LEAD, {"reopen_reason": "still broken"})
        engine.fire(case, "resolve", HEAD, {"resolution": "fixed again"})  # on file
        engine.fire(case, "inform_result", LEAD, {"result_note": "told again"})
    engine.fire(case, "accept", LEAD)
    engine.fire(case, "return_visit", AGENT, {"visit_note": "fine"})


def test_first_contact_per_severity(tmp_path: Path):
    """004 §2.4.2: contact within 24 h (一般), 8 h (紧迫), at once / 4 h (非常紧迫)."""
    engine = make_engine(tmp_path)
    urgent, general = _complaint(engine, "urgent"), _complaint(engine, "general")
    wait(engine, hours=3)
    engine.fire(urgent, "contact_customer", LEAD, {"contact_note": "called"})
    wait(engine, hours=27)
    engine.fire(general, "contact_customer", LEAD, {"contact_note": "late call"})
    report = build_report(engine)
    value, n, d = indicator(report, "first_contact.urgent")
    assert (value, n, d["met"], d["p50"]) == (1.0, 1, 1, 3 * 3600.0)
    value, n, d = indicator(report, "first_contact.general")
    assert (value, n, d["breached"], d["max"]) == (0.0, 1, 1, 30 * 3600.0)
    assert d["deadlines"] == ["first_contact_general"]
    assert report.indicator("first_contact.general").target.at_least == 1.0  # type: ignore[union-attr]


def test_complaint_timeliness_resolution_and_reopens(tmp_path: Path):
    """000 §7.2 投诉处理及时率 (deadlines of 000 §3.1, 004 §2.4.2); 002 §9.1.2 解决率 ≥ 95 %."""
    engine = make_engine(tmp_path)
    timely, late, still_open = (
        _complaint(engine, s) for s in ("urgent", "general", "important")
    )
    wait(engine, minutes=30)
    for case in (timely, still_open):
        engine.fire(case, "contact_customer", LEAD, {"contact_note": "called"})
    engine.fire(timely, "propose_solution", MANAGER, {"proposed_solution": "swap"})
    # planned at once: an open complaint with no plan for a day is late (v2's
    # default plan_by_department deadline)
    engine.fire(
        still_open,
        "plan",
        HEAD,
        {
            "expected_resolution_at": "2026-03-20T10:00:00+08:00",
            "measures": "m",
            "handler": "head.zhao",
        },
    )
    _close(engine, timely)
    wait(engine, hours=30)  # the general one misses its first contact
    _close(engine, late, reopen=True)
    report = build_report(engine)
    value, n, d = indicator(report, "complaint_timeliness")
    assert (value, n, d) == (0.5, 2, {"timely": 1, "late": 1, "open": 1})
    value, n, d = indicator(report, "reopen_rate")
    assert (value, n, d) == (0.5, 2, {"reopened": 1, "resolved": 2})
    value, n, d = indicator(report, "resolution_rate")
    assert (value, n) == (1.0, 2)
    # open: the third complaint, and the return visit each closed one started
    assert (d["good"], d["bad"], d["open"]) == (2, 0, 3)


# ------------------------------------------------------ an owner's own SOPs
def test_outcome_classes_keep_transfers_out_of_the_resolution_rate(tmp_path: Path):
    """002 §9.1.2 解决率 ≥ 95 %: a transfer is neither solved nor failed (issue 19)."""
    engine = make_engine(tmp_path, ORDERS, BERLIN)
    for end in ("deliver", "transfer", "cancel", "lose"):
        case = engine.start(
            "shop_orders", CLERK, {"customer_id": "C-1", "category": "hardware"}
        ).id
        engine.fire(case, "accept", CLERK)
        engine.fire(case, end, CLERK)
    report = build_report(engine, workflow="shop_orders")
    value, n, d = indicator(report, "resolution_rate")
    # resolved 1 good, cancelled 1 bad, transferred neutral, 'lost' unlisted → neutral
    assert (value, n, d["good"], d["bad"], d["neutral"]) == (0.5, 2, 1, 1, 2)
    assert any("'lost'" in note and "shop_orders" in note for note in report.notes)
    cfg = parse_report_config("outcomes: {bad: [cancelled, lost]}")
    value, n, _ = indicator(
        build_report(engine, workflow="shop_orders", config=cfg), "resolution_rate"
    )
    assert (value, n) == (pytest.approx(1 / 3), 3)


def test_satisfaction_from_the_fields_the_config_names(tmp_path: Path):
    """002 §9.1.2 客户满意度 ≥ 90 %, from any field marked as a satisfaction score."""
    engine = make_engine(tmp_path, ORDERS, BERLIN)
    for score in (5, 4, 2, None):
        case = engine.start(
            "shop_orders", CLERK, {"customer_id": "C-1", "category": "software"}
        ).id
        engine.fire(case, "accept", CLERK)
        engine.fire(
            case,
            "deliver",
            CLERK,
            {} if score is None else {"satisfaction_score": score},
        )
    cfg = parse_report_config(
        "satisfaction: {fields: {shop_orders: satisfaction_score}}"
    )
    report = build_report(engine, config=cfg)
    value, n, d = indicator(report, "satisfaction")
    assert (value, n, d) == (pytest.approx(2 / 3), 3, {"satisfied": 2, "rated": 3})
    assert report.indicator("satisfaction").ok is False
    assert report.indicator("satisfaction").target.at_least == 0.9  # type: ignore[union-attr]


def test_counts_by_type_use_the_configured_field_and_the_calendars_zone(tmp_path: Path):
    """003 统计客户抱怨类型 each month, in the workflow calendar's time zone."""
    late_march_berlin = datetime(
        2026, 3, 31, 23, 30, tzinfo=__import__("zoneinfo").ZoneInfo("Europe/Berlin")
    )
    engine = make_engine(tmp_path, ORDERS, BERLIN, start=late_march_berlin)
    engine.start("shop_orders", CLERK, {"customer_id": "C-1", "category": "hardware"})
    engine.start("shop_orders", CLERK, {"customer_id": "C-2", "category": "hardware"})
    cfg = parse_report_config("fields: {type: {shop_orders: category}}")
    report = build_report(engine, config=cfg)
    # 23:30 in Berlin is already April in Shanghai: the workflow's zone decides.
    assert dict(report.by_type) == {("shop_orders", "2026-03", "hardware"): 2}
    assert report.as_dict()["by_type_and_month"][0]["field"] == "category"


def test_unreached_customers_are_listed_for_the_month(tmp_path: Path):
    """003: 每月月初将上月无法电访客户名单 — customers not reached in a month."""
    engine = make_engine(tmp_path, RETURN_CALL, start=local(2026, 3, 10, 10, 0))
    a = engine.start("return_call", CALLER, {"customer_id": "A"}).id
    engine.fire(a, "no_answer", CALLER)
    b = engine.start("return_call", CALLER, {"customer_id": "B"}).id
    engine.fire(b, "no_answer", CALLER)
    c = engine.start("return_call", CALLER, {"customer_id": "C"}).id
    engine.fire(c, "no_answer", CALLER)
    wait(engine, days=1)
    engine.fire(b, "reached", CALLER)
    engine.fire(c, "give_up", CALLER)
    wait(engine, days=9)
    engine.fire(a, "no_answer", CALLER)
    wait(engine, days=13)  # 2 April
    engine.fire(a, "reached", CALLER)
    march = build_report(
        engine, since=local(2026, 3, 1, 0, 0), until=local(2026, 4, 1, 0, 0)
    )
    rows = march.unreached["2026-03"]
    assert [(r["customer"], r["attempts"]) for r in rows] == [("A", 2), ("C", 1)]
    april = build_report(
        engine, since=local(2026, 4, 1, 0, 0), until=local(2026, 5, 1, 0, 0)
    )
    assert april.unreached == {}  # A was reached in April: not listed for it


# ------------------------------------------------------------------ cuts
def test_cuts_repeat_the_indicators_per_group(tmp_path: Path):
    """The same code counts every group: the groups of a cut add up to the whole."""
    engine = make_engine(tmp_path)
    urgent = _complaint(engine, "urgent")
    call(engine)
    wait(engine, days=7)
    call(engine, channel="email")
    engine.fire(urgent, "contact_customer", LEAD, {"contact_note": "c"})
    report = build_report(engine, cuts=("week", "severity", "channel", "workflow"))
    assert sum(r.cases for r in report.cuts["week"].values()) == report.total == 3
    assert set(report.cuts["week"]) == {"2026-W10", "2026-W11"}
    assert set(report.cuts["severity"]) == {"urgent", "(none)"}
    assert set(report.cuts["channel"]) == {"phone", "email"}
    keys = [i.key for i in report.indicators]
    for rows in report.cuts.values():
        assert all([i.key for i in r.indicators] == keys for r in rows.values())
    only = build_report(engine, severity="urgent")
    assert only.total == 1
    value, n, d = indicator(only, "first_contact.urgent")
    assert (value, n, d["breached"], d["max"]) == (0.0, 1, 1, 7 * 86400.0)


def test_a_persons_view_counts_their_cases_and_their_own_work(tmp_path: Path):
    """'My figures': the cases a person answered, and the cases they worked on."""
    engine = make_engine(tmp_path)
    mine, theirs = call(engine), call(engine)
    wait(engine, seconds=20)
    engine.fire(mine, "respond", LI)
    wait(engine, seconds=20)
    engine.fire(theirs, "respond", Actor("zhou.min", {"cs_agent"}))
    report = build_report(engine, person="li.na")
    assert report.total == 1
    assert report.filters == {"person": "li.na"}
    value, n, _ = indicator(report, "response.phone")
    assert (value, n) == (1.0, 1)
    assert set(report.cuts["person"]) == {"li.na"}


def test_small_pages_give_the_same_report(tmp_path: Path):
    """Streaming in pages (with start-time ties across pages) changes nothing."""
    engine = make_engine(tmp_path)
    for _ in range(7):  # seven cases at the same instant
        call(engine)
    wait(engine, seconds=10)
    for _ in range(5):
        engine.fire(call(engine), "respond", LI)
    whole = build_report(engine).as_dict()
    for page in (1, 2, 3, 7):
        got = build_report(engine, page=page).as_dict()
        assert got == whole, page


def test_an_unknown_calendar_in_the_config_is_a_clear_error(tmp_path: Path):
    from cswork.errors import DefinitionError

    with pytest.raises(DefinitionError, match="calendar 'nowhere'"):
        build_report(make_engine(tmp_path), config=ReportConfig(calendar="nowhere"))
    with pytest.raises(ValueError, match="unknown cut"):
        build_report(make_engine(tmp_path), cuts=("fortnight",))
